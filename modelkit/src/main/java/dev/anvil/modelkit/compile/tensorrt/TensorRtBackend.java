package dev.anvil.modelkit.compile.tensorrt;

import java.util.List;

/**
 * TensorRT on one GPU: builds serialized engines from ONNX and runs them. {@link JavaCppTensorRt} is the real one
 * (JavaCPP presets over libnvinfer and its ONNX parser); the operator logic around it (options, profiles, tables,
 * manifests, publishing) takes this interface, so it is tested without a GPU.
 */
public interface TensorRtBackend {
    /** The device engines are built for and run on. */
    GpuDevice device();

    /**
     * Parses {@code onnx} with TensorRT's ONNX parser into a strongly typed network and builds a serialized engine.
     *
     * @param profiles    one per network input (a single optimisation profile)
     * @param timingCache a timing cache from an earlier build on this device, or null for an empty one
     * @throws IllegalArgumentException when the parser or builder refuses the model (bad input), naming the node
     */
    Built build(byte[] onnx, List<ShapeProfile> profiles, byte[] timingCache, long workspaceBytes);

    /** Deserialises a plan built on this device, ready to run. */
    Engine load(byte[] plan);

    /**
     * A build's result.
     *
     * @param timingCache        the timing cache after the build (what was given plus what this build measured)
     * @param timingCacheAccepted whether the given timing cache was used; false when none was given or TensorRT
     *                           rejected it (made on another device or TensorRT version): the build then started from
     *                           an empty one
     */
    record Built(byte[] plan, byte[] timingCache, List<TensorSpec> inputs, List<TensorSpec> outputs,
            boolean timingCacheAccepted) {}

    /** A deserialised engine with one execution context; not thread-safe. */
    interface Engine extends AutoCloseable {
        /**
         * Runs the engine's only input at {@code shape} (float32) and returns output 0, flattened (float32).
         */
        float[] run(float[] input, long[] shape);

        @Override
        void close();
    }
}
