package dev.anvil.modelkit.compile.tensorrt;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * What a TensorRT engine (.plan) was built for, published as JSON beside it. A plan runs only on the GPU model,
 * compute capability and TensorRT version it was built with (TensorRT checks little of this itself and may fail
 * obscurely), so a worker compares this manifest with its own device before it loads a plan, and refuses a mismatch
 * with the reason ({@link #refuseUnlessRunsOn}).
 *
 * @param onnxSha256 the ONNX model the engine was built from (after float16 conversion or quantisation, the bytes
 *                   TensorRT parsed)
 */
public record EngineManifest(
        @JsonProperty("format") String format,
        @JsonProperty("plan_sha256") String planSha256,
        @JsonProperty("plan_size") long planSize,
        @JsonProperty("onnx_sha256") String onnxSha256,
        @JsonProperty("gpu_name") String gpuName,
        @JsonProperty("compute_capability") String computeCapability,
        @JsonProperty("tensorrt_version") String tensorrtVersion,
        @JsonProperty("cuda_version") String cudaVersion,
        @JsonProperty("precision") String precision,
        @JsonProperty("profiles") List<ShapeProfile> profiles,
        @JsonProperty("inputs") List<TensorSpec> inputs,
        @JsonProperty("outputs") List<TensorSpec> outputs) {
    public static final String FORMAT = "anvil.tensorrt-engine/v1";

    /** The manifest of a plan built on {@code device}. */
    public static EngineManifest of(byte[] plan, String onnxSha256, GpuDevice device, TensorRtPrecision precision,
            List<ShapeProfile> profiles, List<TensorSpec> inputs, List<TensorSpec> outputs) {
        return new EngineManifest(FORMAT, sha256(plan), plan.length, onnxSha256, device.name(),
                device.computeCapability(), device.tensorrt(), device.cudaRuntime(), precision.specName(), profiles,
                inputs, outputs);
    }

    /**
     * @throws EngineRefusedException naming each difference between what the plan was built for and {@code running},
     *                                when the plan cannot run there
     */
    public void refuseUnlessRunsOn(GpuDevice running) {
        if (!FORMAT.equals(format)) {
            throw new EngineRefusedException("the engine manifest has format '" + format + "', expected " + FORMAT
                    + "; pass the engine_manifest output of a compile task with target tensorrt");
        }
        List<String> differences = new ArrayList<>();
        differ(differences, "GPU model", gpuName, running.name());
        differ(differences, "compute capability", computeCapability, running.computeCapability());
        differ(differences, "TensorRT version", tensorrtVersion, running.tensorrt());
        differ(differences, "CUDA major version", major(cudaVersion), major(running.cudaRuntime()));
        if (!differences.isEmpty()) {
            throw new EngineRefusedException("the TensorRT engine " + planSha256 + " was built for another GPU or TensorRT: "
                    + String.join("; ", differences) + ". An engine runs only on the GPU model, compute capability"
                    + " and TensorRT version it was built with: rebuild it (compile, target: tensorrt) on a worker"
                    + " with this GPU");
        }
    }

    /** @throws EngineRefusedException when {@code plan} is not the plan this manifest describes */
    public void refuseUnlessDescribes(byte[] plan) {
        String actual = sha256(plan);
        if (!actual.equals(planSha256)) {
            throw new EngineRefusedException("the engine plan's sha256 is " + actual + " but its manifest describes "
                    + planSha256 + "; pass the engine and engine_manifest outputs of the same compile task");
        }
    }

    private static void differ(List<String> out, String what, String built, String here) {
        if (built == null || !built.equals(here)) {
            out.add(what + " " + built + " (this worker: " + here + ")");
        }
    }

    private static String major(String version) {
        return version == null ? null : version.split("\\.")[0];
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
