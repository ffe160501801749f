package dev.anvil.modelkit.compile.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Detecting TensorRT once, and the reasons it gives where it cannot load. */
class TensorRtRuntimeTest {

    @Test
    void withoutTheNativesTheReasonSaysToBuildWithGpu() {
        // the default build carries the Java API jars only
        assumeFalse(JavaCppTensorRt.nativesOnClassPath(), "the TensorRT natives are on this class path (-Pgpu)");
        TensorRtRuntime.Availability a = TensorRtRuntime.detect();
        assertThat(a.available()).isFalse();
        assertThat(a.device()).isEmpty();
        assertThat(a.reason()).isEqualTo("TensorRT natives not on the class path (build with -Pgpu)");
    }

    @Test
    void detectionHappensOnceAndIsKept() {
        assertThat(TensorRtRuntime.detect()).isSameAs(TensorRtRuntime.detect());
    }

    @Test
    void theLoaderIsNotAskedWhenTheNativesAreMissing() {
        AtomicInteger calls = new AtomicInteger();
        TensorRtRuntime.Availability a = TensorRtRuntime.probe(() -> false, () -> {
            calls.incrementAndGet();
            throw new AssertionError("not called");
        });
        assertThat(calls).hasValue(0);
        assertThat(a.reason()).isEqualTo(TensorRtRuntime.NOT_ON_CLASS_PATH);
    }

    @Test
    void aLoadFailureBecomesAReasonAPersonCanActOn() {
        assertThat(TensorRtRuntime.probe(() -> true, () -> {
            throw new UnsatisfiedLinkError("/tmp/javacpp/libjnicudart.so: libcuda.so.1: cannot open shared object file:"
                    + " No such file or directory");
        }).reason()).startsWith("no CUDA driver (libcuda.so not found").contains("libcuda.so.1");
        assertThat(TensorRtRuntime.probe(() -> true, () -> {
            throw new UnsatisfiedLinkError("libnvinfer.so.11: cannot open shared object file");
        }).reason()).startsWith("TensorRT libraries not found").contains("linux-x86_64-redist");
        assertThat(TensorRtRuntime.probe(() -> true, () -> {
            throw new UnsatisfiedLinkError("libcudart.so.13: cannot open shared object file");
        }).reason()).startsWith("CUDA runtime libraries not found");
        // what JavaCPP says with the JNI jars present and the CUDA runtime missing (seen with -Pgpu on a machine
        // without CUDA): the linker's error, when JavaCPP keeps it as the cause, names the library
        UnsatisfiedLinkError jni = new UnsatisfiedLinkError("no jnicudart in java.library.path: /usr/lib");
        assertThat(TensorRtRuntime.probe(() -> true, () -> {
            throw jni;
        }).reason()).startsWith("the CUDA/TensorRT JNI libraries are on the class path but did not load")
                .contains("no jnicudart");
        UnsatisfiedLinkError withCause = new UnsatisfiedLinkError("no jnicudart in java.library.path: /usr/lib");
        withCause.initCause(new UnsatisfiedLinkError("/root/.javacpp/cache/libjnicudart.so: libcudart.so.13: cannot"
                + " open shared object file"));
        assertThat(TensorRtRuntime.probe(() -> true, () -> {
            throw withCause;
        }).reason()).startsWith("CUDA runtime libraries not found");
        assertThat(TensorRtRuntime.probe(() -> true, () -> {
            throw new NoClassDefFoundError("org/bytedeco/tensorrt/global/nvinfer");
        }).reason()).contains("build with -Pgpu");
        // a CUDA error code read after loading, in the loader's own words
        assertThat(TensorRtRuntime.probe(() -> true, () -> {
            throw new TensorRtRuntime.Unavailable("no CUDA device visible (cudaGetDeviceCount: 0 devices)");
        }).reason()).isEqualTo("no CUDA device visible (cudaGetDeviceCount: 0 devices)");
        // wrapped, as Loader.load may throw it
        assertThat(TensorRtRuntime.probe(() -> true, () -> {
            throw new ExceptionInInitializerError(new UnsatisfiedLinkError("libcuda.so.1: cannot open"));
        }).reason()).startsWith("no CUDA driver");
    }

    @Test
    void aFoundDeviceIsReportedWithItsVersions() {
        GpuDevice d = new GpuDevice("NVIDIA L4", "8.9", GpuDevice.cudaVersion(13030), GpuDevice.cudaVersion(13000),
                GpuDevice.tensorrtVersion(110200));
        TensorRtRuntime.Availability a = TensorRtRuntime.probe(() -> true, () -> d);
        assertThat(a.available()).isTrue();
        assertThat(a.reason()).isEqualTo("TensorRT 11.2.0 on NVIDIA L4 (compute capability 8.9, CUDA 13.3, TensorRT"
                + " 11.2.0)");
        assertThat(d.cudaDriver()).isEqualTo("13.0");
    }
}
