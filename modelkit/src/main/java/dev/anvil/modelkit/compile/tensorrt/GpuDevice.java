package dev.anvil.modelkit.compile.tensorrt;

import java.util.Objects;

/**
 * The GPU a worker runs on, as CUDA and TensorRT report it; what a TensorRT engine is tied to.
 *
 * @param name              the device name, e.g. "NVIDIA H100 80GB HBM3"
 * @param computeCapability major.minor, e.g. "9.0"
 * @param cudaRuntime       the CUDA runtime version loaded, e.g. "13.3"
 * @param cudaDriver        the highest CUDA version the installed driver supports, e.g. "13.3"
 * @param tensorrt          the TensorRT library version loaded, e.g. "11.2.0"
 */
public record GpuDevice(String name, String computeCapability, String cudaRuntime, String cudaDriver,
        String tensorrt) {
    public GpuDevice {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(computeCapability, "computeCapability");
        Objects.requireNonNull(cudaRuntime, "cudaRuntime");
        Objects.requireNonNull(tensorrt, "tensorrt");
    }

    /** CUDA encodes versions as 1000 × major + 10 × minor (13030 → "13.3"). */
    static String cudaVersion(int encoded) {
        return encoded / 1000 + "." + (encoded % 1000) / 10;
    }

    /** TensorRT 10+ encodes its version as 10000 × major + 100 × minor + patch (110200 → "11.2.0"). */
    static String tensorrtVersion(int encoded) {
        return encoded / 10000 + "." + (encoded % 10000) / 100 + "." + encoded % 100;
    }

    @Override
    public String toString() {
        return name + " (compute capability " + computeCapability + ", CUDA " + cudaRuntime + ", TensorRT "
                + tensorrt + ")";
    }
}
