package dev.anvil.modelkit.compile.tensorrt;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * Whether this process can build and run TensorRT engines, decided once: the CUDA and TensorRT natives are loaded
 * through JavaCPP and the first GPU is asked for its name and compute capability. Where that fails the reason is kept
 * in words a person can act on ("TensorRT natives not on the class path (build with -Pgpu)", "no CUDA driver ...")
 * and nothing retries it: a worker polls the GPU queue only when {@link #detect()} says TensorRT is available.
 */
public final class TensorRtRuntime {
    static final String NOT_ON_CLASS_PATH = "TensorRT natives not on the class path (build with -Pgpu)";

    /** What {@link #detect()} found: a device, or why there is none. */
    public record Availability(Optional<GpuDevice> device, String reason) {
        public static Availability of(GpuDevice device) {
            return new Availability(Optional.of(device), "TensorRT " + device.tensorrt() + " on " + device);
        }

        public static Availability unavailable(String reason) {
            return new Availability(Optional.empty(), reason);
        }

        public boolean available() {
            return device.isPresent();
        }
    }

    /** A step of loading that failed for a reason known in words (no device, a CUDA error code). */
    static final class Unavailable extends Exception {
        Unavailable(String reason) {
            super(reason);
        }
    }

    /** Loads the natives and reads the device; throws {@link Unavailable}, {@link LinkageError} or any error. */
    @FunctionalInterface
    interface Loader {
        GpuDevice load() throws Exception;
    }

    private static Availability detected;

    private TensorRtRuntime() {}

    /** This process' answer, computed on first use and kept: loading natives is not worth retrying. */
    public static synchronized Availability detect() {
        if (detected == null) {
            detected = probe(JavaCppTensorRt::nativesOnClassPath, JavaCppTensorRt::loadDevice);
        }
        return detected;
    }

    /**
     * @param nativesOnClassPath whether the JNI libraries (the linux-x86_64 classifier jars) are there at all
     * @param loader             loads the natives and reads device 0
     */
    static Availability probe(Supplier<Boolean> nativesOnClassPath, Loader loader) {
        if (!nativesOnClassPath.get()) {
            return Availability.unavailable(NOT_ON_CLASS_PATH);
        }
        try {
            return Availability.of(loader.load());
        } catch (Unavailable e) {
            return Availability.unavailable(e.getMessage());
        } catch (Throwable e) {
            return Availability.unavailable(reasonFor(e));
        }
    }

    /**
     * The words for a failed load, from what the dynamic linker or JavaCPP said. JavaCPP reports a JNI library it
     * could not load as "no jni... in java.library.path" and keeps the linker's own error (a missing libcudart.so,
     * libnvinfer.so) as a cause or a suppressed error, so the whole chain is read.
     */
    static String reasonFor(Throwable failure) {
        StringBuilder all = new StringBuilder();
        collect(failure, all, 0);
        String message = all.toString();
        String first = failure.getClass().getSimpleName() + ": " + failure.getMessage();
        if (failure instanceof NoClassDefFoundError) {
            return "TensorRT/CUDA Java classes failed to load (" + failure.getMessage() + "); " + NOT_ON_CLASS_PATH;
        }
        if (message.contains("libcuda.so")) {
            return "no CUDA driver (libcuda.so not found: install the NVIDIA driver, or run with the NVIDIA container"
                    + " runtime): " + message;
        }
        if (message.contains("libnvinfer") || message.contains("libnvonnxparser")) {
            return "TensorRT libraries not found (libnvinfer/libnvonnxparser 11): install TensorRT 11.2 or put the"
                    + " tensorrt linux-x86_64-redist jar on the class path: " + message;
        }
        if (message.contains("libcudart") || message.contains("libcublas") || message.contains("libcudnn")) {
            return "CUDA runtime libraries not found (CUDA 13): install the CUDA 13 runtime: " + message;
        }
        if (message.contains("jni")) {
            return "the CUDA/TensorRT JNI libraries are on the class path but did not load, most likely because the"
                    + " CUDA 13 runtime, TensorRT 11.2 or the NVIDIA driver is not installed here (the GPU worker image"
                    + " has them; see docs/compile.md): " + message;
        }
        return "CUDA/TensorRT natives failed to load: " + first;
    }

    private static void collect(Throwable t, StringBuilder out, int depth) {
        if (t == null || depth > 8) {
            return;
        }
        if (!out.isEmpty()) {
            out.append(" <- ");
        }
        out.append(t.getMessage());
        for (Throwable s : t.getSuppressed()) {
            collect(s, out, depth + 1);
        }
        if (t.getCause() != t) {
            collect(t.getCause(), out, depth + 1);
        }
    }
}
