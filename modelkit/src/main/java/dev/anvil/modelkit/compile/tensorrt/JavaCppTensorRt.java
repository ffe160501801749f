package dev.anvil.modelkit.compile.tensorrt;

import static org.bytedeco.cuda.global.cudart.cudaDriverGetVersion;
import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceProperties;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemcpy;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaRuntimeGetVersion;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreate;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvonnxparser;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.ILogger;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.IOptimizationProfile;
import org.bytedeco.tensorrt.nvinfer.IRuntime;
import org.bytedeco.tensorrt.nvinfer.ITimingCache;
import org.bytedeco.tensorrt.nvonnxparser.IParser;
import org.bytedeco.tensorrt.nvonnxparser.IParserError;

/**
 * TensorRT 11 through the JavaCPP presets ({@code org.bytedeco:tensorrt}, {@code org.bytedeco:cuda}) on GPU 0.
 * Only constructed after {@link TensorRtRuntime#detect()} found the natives and a device; the default build has the
 * Java classes but not the natives (-Pgpu adds them).
 *
 * <p>Never run on a GPU in this project's CI: the code follows the TensorRT 11 C++ API as the presets expose it
 * (strongly typed network, ONNX parser, one optimisation profile, timing cache, enqueueV3 on a stream).
 */
public final class JavaCppTensorRt implements TensorRtBackend {
    private static final int CUDA_ERROR_INSUFFICIENT_DRIVER = 35;
    private static final int CUDA_ERROR_NO_DEVICE = 100;

    private final GpuDevice device;
    private final Logger logger = new Logger();

    /** @throws IllegalStateException when TensorRT is not available here, with the reason */
    public JavaCppTensorRt() {
        TensorRtRuntime.Availability a = TensorRtRuntime.detect();
        this.device = a.device().orElseThrow(() -> new IllegalStateException("TensorRT unavailable: " + a.reason()));
    }

    @Override
    public GpuDevice device() {
        return device;
    }

    /** Whether the JNI libraries of the cuda and tensorrt presets (the linux-x86_64 classifier jars) are present. */
    static boolean nativesOnClassPath() {
        try {
            String platform = Loader.getPlatform();
            ClassLoader cl = JavaCppTensorRt.class.getClassLoader();
            return cl.getResource("org/bytedeco/tensorrt/" + platform + "/") != null
                    && cl.getResource("org/bytedeco/cuda/" + platform + "/") != null;
        } catch (LinkageError e) {
            return false;
        }
    }

    /** Loads CUDA and TensorRT and reads device 0; called once, by {@link TensorRtRuntime#detect()}. */
    static GpuDevice loadDevice() throws Exception {
        Loader.load(cudart.class);
        int[] count = new int[1];
        int err = cudaGetDeviceCount(count);
        if (err == CUDA_ERROR_INSUFFICIENT_DRIVER) {
            throw new TensorRtRuntime.Unavailable("no CUDA driver, or one too old for CUDA 13 (cudaGetDeviceCount: "
                    + errorString(err) + ")");
        }
        if (err == CUDA_ERROR_NO_DEVICE || (err == cudaSuccess && count[0] == 0)) {
            throw new TensorRtRuntime.Unavailable("no CUDA device visible (cudaGetDeviceCount: "
                    + (err == cudaSuccess ? "0 devices" : errorString(err)) + "; check CUDA_VISIBLE_DEVICES)");
        }
        check(err, "cudaGetDeviceCount");
        cudaDeviceProp prop = new cudaDeviceProp();
        check(cudaGetDeviceProperties(prop, 0), "cudaGetDeviceProperties");
        int[] runtime = new int[1];
        int[] driver = new int[1];
        check(cudaRuntimeGetVersion(runtime), "cudaRuntimeGetVersion");
        check(cudaDriverGetVersion(driver), "cudaDriverGetVersion");
        Loader.load(nvinfer.class);
        Loader.load(nvonnxparser.class);
        return new GpuDevice(prop.name().getString().trim(), prop.major() + "." + prop.minor(),
                GpuDevice.cudaVersion(runtime[0]), GpuDevice.cudaVersion(driver[0]),
                GpuDevice.tensorrtVersion(nvinfer.getInferLibVersion()));
    }

    @Override
    public Built build(byte[] onnx, List<ShapeProfile> profiles, byte[] timingCache, long workspaceBytes) {
        logger.errors.clear();
        IBuilder builder = nvinfer.createInferBuilder(logger);
        INetworkDefinition network = builder.createNetworkV2(
                1 << nvinfer.NetworkDefinitionCreationFlag.kSTRONGLY_TYPED.value);
        IParser parser = nvonnxparser.createParser(network, logger);
        IBuilderConfig config = builder.createBuilderConfig();
        try (BytePointer model = new BytePointer(onnx)) {
            if (!parser.parse(model, onnx.length)) {
                List<String> errors = new ArrayList<>();
                for (int i = 0; i < parser.getNbErrors(); i++) {
                    IParserError e = parser.getError(i);
                    errors.add("node '" + e.nodeName() + "' (" + e.nodeOperator() + "): " + e.desc());
                }
                throw new IllegalArgumentException("TensorRT's ONNX parser refused the model: " + errors);
            }
            config.setMemoryPoolLimit(nvinfer.MemoryPoolType.kWORKSPACE, workspaceBytes);
            // TF32 is on by default for float32 convolutions and matrix products on Ampere and later; off, the
            // float32 parts of the model compute in IEEE float32, as the model's types say
            config.clearFlag(nvinfer.BuilderFlag.kTF32);
            boolean cacheAccepted = false;
            if (timingCache != null) {
                try (BytePointer given = new BytePointer(timingCache)) {
                    ITimingCache cache = config.createTimingCache(given, timingCache.length);
                    // not ignoring mismatches: a cache from another device or version is rejected, not half-used
                    cacheAccepted = cache != null && !cache.isNull() && config.setTimingCache(cache, false);
                }
            }
            if (!cacheAccepted) {
                config.setTimingCache(config.createTimingCache(new Pointer(), 0), false);
            }
            IOptimizationProfile profile = builder.createOptimizationProfile();
            for (ShapeProfile p : profiles) {
                profile.setDimensions(p.input(), nvinfer.OptProfileSelector.kMIN, dims(p.min()));
                profile.setDimensions(p.input(), nvinfer.OptProfileSelector.kOPT, dims(p.opt()));
                profile.setDimensions(p.input(), nvinfer.OptProfileSelector.kMAX, dims(p.max()));
            }
            if (config.addOptimizationProfile(profile) < 0) {
                throw new IllegalArgumentException("TensorRT refused the optimisation profile " + profiles + ": "
                        + logger.errors);
            }
            IHostMemory plan = builder.buildSerializedNetwork(network, config);
            if (plan == null || plan.isNull()) {
                throw new IllegalArgumentException("TensorRT could not build an engine for the model: "
                        + logger.errors);
            }
            byte[] planBytes = bytes(plan);
            byte[] cacheBytes = bytes(config.getTimingCache().serialize());
            try (Loaded loaded = new Loaded(planBytes)) {
                return new Built(planBytes, cacheBytes, loaded.specs(nvinfer.TensorIOMode.kINPUT),
                        loaded.specs(nvinfer.TensorIOMode.kOUTPUT), cacheAccepted);
            }
        } finally {
            config.close();
            parser.close();
            network.close();
            builder.close();
        }
    }

    @Override
    public Engine load(byte[] plan) {
        return new Loaded(plan);
    }

    /** A deserialised engine, one execution context and a CUDA stream, with device buffers grown as needed. */
    private final class Loaded implements Engine {
        private final IRuntime runtime;
        private final ICudaEngine engine;
        private final IExecutionContext context;
        private final CUstream_st stream = new CUstream_st();
        private final Pointer input = new Pointer();
        private final Pointer output = new Pointer();
        private long inputCapacity;
        private long outputCapacity;

        Loaded(byte[] plan) {
            runtime = nvinfer.createInferRuntime(logger);
            try (BytePointer p = new BytePointer(plan)) {
                engine = runtime.deserializeCudaEngine(p, plan.length);
            }
            if (engine == null || engine.isNull()) {
                throw new IllegalArgumentException("TensorRT could not deserialise the engine on " + device + ": "
                        + logger.errors);
            }
            context = engine.createExecutionContext();
            check(cudaStreamCreate(stream), "cudaStreamCreate");
        }

        List<TensorSpec> specs(nvinfer.TensorIOMode mode) {
            List<TensorSpec> out = new ArrayList<>();
            for (int i = 0; i < engine.getNbIOTensors(); i++) {
                String name = engine.getIOTensorName(i);
                if (engine.getTensorIOMode(name) == mode) {
                    Dims64 d = engine.getTensorShape(name);
                    List<Long> shape = new ArrayList<>();
                    for (int k = 0; k < d.nbDims(); k++) {
                        shape.add(d.d(k));
                    }
                    out.add(new TensorSpec(name, engine.getTensorDataType(name).name(), shape));
                }
            }
            return out;
        }

        @Override
        public float[] run(float[] in, long[] shape) {
            String inName = specs(nvinfer.TensorIOMode.kINPUT).get(0).name();
            String outName = specs(nvinfer.TensorIOMode.kOUTPUT).get(0).name();
            if (engine.getTensorDataType(outName) != nvinfer.DataType.kFLOAT
                    || engine.getTensorDataType(inName) != nvinfer.DataType.kFLOAT) {
                throw new IllegalArgumentException("the engine's input and output 0 must be float32; they are "
                        + engine.getTensorDataType(inName) + " and " + engine.getTensorDataType(outName));
            }
            if (!context.setInputShape(inName, dims(java.util.Arrays.stream(shape).boxed().toList()))) {
                throw new IllegalArgumentException("the engine's profile does not admit input shape "
                        + java.util.Arrays.toString(shape) + ": " + logger.errors);
            }
            Dims64 od = context.getTensorShape(outName);
            long outCount = 1;
            for (int k = 0; k < od.nbDims(); k++) {
                outCount *= od.d(k);
            }
            long inBytes = 4L * in.length;
            long outBytes = 4L * outCount;
            if (inBytes > inputCapacity) {
                grow(input, inBytes);
                inputCapacity = inBytes;
            }
            if (outBytes > outputCapacity) {
                grow(output, outBytes);
                outputCapacity = outBytes;
            }
            float[] result = new float[(int) outCount];
            try (FloatPointer host = new FloatPointer(in); FloatPointer back = new FloatPointer(outCount)) {
                check(cudaMemcpy(input, host, inBytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
                context.setTensorAddress(inName, input);
                context.setTensorAddress(outName, output);
                if (!context.enqueueV3(stream)) {
                    throw new IllegalStateException("TensorRT enqueueV3 failed: " + logger.errors);
                }
                check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
                check(cudaMemcpy(back, output, outBytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
                back.get(result);
            }
            return result;
        }

        private void grow(Pointer buffer, long bytes) {
            if (!buffer.isNull()) {
                cudaFree(buffer);
            }
            check(cudaMalloc(buffer, bytes), "cudaMalloc(" + bytes + ")");
        }

        @Override
        public void close() {
            if (!input.isNull()) {
                cudaFree(input);
            }
            if (!output.isNull()) {
                cudaFree(output);
            }
            cudaStreamDestroy(stream);
            context.close();
            engine.close();
            runtime.close();
        }
    }

    /** Keeps TensorRT's errors for the message of a failed parse or build; the rest goes nowhere. */
    private static final class Logger extends ILogger {
        final List<String> errors = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public void log(Severity severity, String msg) {
            if (severity == Severity.kERROR || severity == Severity.kINTERNAL_ERROR) {
                errors.add(msg);
            }
        }
    }

    private static Dims64 dims(List<Long> shape) {
        Dims64 d = new Dims64();
        d.nbDims(shape.size());
        for (int i = 0; i < shape.size(); i++) {
            d.d(i, shape.get(i));
        }
        return d;
    }

    private static byte[] bytes(IHostMemory memory) {
        byte[] out = new byte[(int) memory.size()];
        new BytePointer(memory.data()).capacity(memory.size()).get(out);
        return out;
    }

    private static void check(int err, String what) {
        if (err != cudaSuccess) {
            throw new IllegalStateException(what + " failed: " + errorString(err));
        }
    }

    private static String errorString(int err) {
        return cudaGetErrorString(err).getString() + " (" + err + ")";
    }
}
