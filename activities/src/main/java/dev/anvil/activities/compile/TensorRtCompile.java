package dev.anvil.activities.compile;

import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.modelkit.compile.tensorrt.EngineManifest;
import dev.anvil.modelkit.compile.tensorrt.GpuDevice;
import dev.anvil.modelkit.compile.tensorrt.ShapeProfile;
import dev.anvil.modelkit.compile.tensorrt.ShapeProfiles;
import dev.anvil.modelkit.compile.tensorrt.TensorRtBackend;
import dev.anvil.modelkit.compile.tensorrt.TensorRtModels;
import dev.anvil.modelkit.compile.tensorrt.TensorRtPrecision;
import dev.anvil.modelkit.compile.tensorrt.TensorRtRuntime;
import dev.anvil.modelkit.compile.tensorrt.TensorRtVerifier;
import dev.anvil.modelkit.onnx.ModelSignature;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.quantize.CalibrationTable;
import dev.anvil.workflows.ArtifactRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code compile} with {@code target: tensorrt}, on a GPU worker: the options and the model's shapes are checked
 * before any work, the model is prepared for the precision (float16 conversion; INT8 as QDQ from a calibration table
 * or as given), TensorRT builds the engine with one optimisation profile and a timing cache, the engine runs on
 * {@code dataset} against ONNX Runtime, and only an engine that reached {@code min_agreement} is published: the plan,
 * its manifest (the GPU, compute capability, TensorRT and CUDA versions it was built for) and the timing cache.
 *
 * <p>With {@code engine} (an earlier task's {@code engine_manifest}), nothing is built: the manifest is checked
 * against this worker's GPU (another GPU model, compute capability or TensorRT version is refused with the reason),
 * the plan is verified the same way, and nothing new is published.
 */
final class TensorRtCompile {
    static final String PLAN_MEDIA_TYPE = "application/vnd.anvil.tensorrt-plan";
    static final String TIMING_CACHE_MEDIA_TYPE = "application/vnd.anvil.tensorrt-timing-cache";
    /** with-fields that only target tensorrt reads. */
    static final List<String> TENSORRT_ONLY = List.of("shapes", "workspace_mb", "timing_cache", "engine",
            "min_agreement");

    /** What a heartbeat carries. */
    record Heartbeat(String phase) {}

    private final CompileOperator operator;
    private final ArtifactIO artifacts;
    private final Supplier<TensorRtRuntime.Availability> availability;
    private final Function<GpuDevice, TensorRtBackend> backends;

    TensorRtCompile(CompileOperator operator, ArtifactIO artifacts,
            Supplier<TensorRtRuntime.Availability> availability, Function<GpuDevice, TensorRtBackend> backends) {
        this.operator = operator;
        this.artifacts = artifacts;
        this.availability = availability;
        this.backends = backends;
    }

    /** The task's options, checked before any download. */
    record Options(TensorRtPrecision precision, Map<String, Object> shapes, long workspaceBytes, int samples,
            double minAgreement, boolean reuseEngine) {
        @SuppressWarnings("unchecked")
        static Options parse(Map<String, Object> with) {
            TensorRtPrecision precision = TensorRtPrecision.parse(String.valueOf(with.getOrDefault("precision",
                    "float32")));
            if (with.get("calibration_table") != null && precision != TensorRtPrecision.INT8) {
                throw new IllegalArgumentException("with.calibration_table applies to precision int8 only");
            }
            if (with.get("io") != null) {
                throw new IllegalArgumentException("with.io applies to target tflite only; a TensorRT engine takes"
                        + " and gives the model's own input and output types");
            }
            if (with.get("dataset") == null) {
                throw new IllegalArgumentException("target tensorrt needs with.dataset: an engine is published only"
                        + " after it ran on a dataset against ONNX Runtime");
            }
            Object shapes = with.getOrDefault("shapes", Map.of());
            if (!(shapes instanceof Map<?, ?>)) {
                throw new IllegalArgumentException("with.shapes must map input names to shapes, got " + shapes);
            }
            int workspaceMb = ((Number) with.getOrDefault("workspace_mb", 1024)).intValue();
            if (workspaceMb < 16) {
                throw new IllegalArgumentException("with.workspace_mb must be at least 16, got " + workspaceMb);
            }
            double minAgreement = ((Number) with.getOrDefault("min_agreement", 0.98)).doubleValue();
            if (!(minAgreement >= 0 && minAgreement <= 1)) {
                throw new IllegalArgumentException("with.min_agreement must be in [0, 1], got " + minAgreement);
            }
            boolean reuse = with.get("engine") != null;
            if (reuse) {
                for (String key : List.of("calibration_table", "shapes", "timing_cache", "workspace_mb")) {
                    if (with.get(key) != null) {
                        throw new IllegalArgumentException("with.engine verifies an engine already built; with." + key
                                + " only applies to a build: remove one of them");
                    }
                }
            }
            return new Options(precision, (Map<String, Object>) shapes, workspaceMb * 1024L * 1024L,
                    ((Number) with.getOrDefault("samples", 0)).intValue(), minAgreement, reuse);
        }
    }

    Map<String, Object> run(TaskContext context, Map<String, Object> with, List<Path> temporary) throws Exception {
        Options options = Options.parse(with);
        TensorRtRuntime.Availability here = availability.get();
        GpuDevice device = here.device().orElseThrow(() -> new InvalidTaskInputException(operator.name()
                + ": TensorRT is unavailable on this worker: " + here.reason() + ". Only workers where TensorRT loads"
                + " poll anvil-gpu; check this worker's ANVIL_WORKER_QUEUES"));
        ArtifactRef modelRef = artifacts.resolve(operator.name(), with, "model");
        artifacts.used(context, modelRef, "model");
        Path modelFile = artifacts.fetch(modelRef, ".onnx");
        temporary.add(modelFile);
        OnnxModel model = OnnxModel.read(modelFile);
        ModelSignature signature = ModelSignature.of(model.build());
        if (signature.inputs().size() != 1) {
            throw new IllegalArgumentException("target tensorrt verifies models with one input; this one has "
                    + signature.inputs().stream().map(ModelSignature.Tensor::name).toList());
        }
        TensorRtBackend backend = backends.apply(device);
        if (options.reuseEngine()) {
            return verifyBuilt(context, with, options, device, backend, modelFile, temporary);
        }
        List<ShapeProfile> profiles = ShapeProfiles.derive(signature, options.shapes());

        CalibrationTable table = null;
        Map<String, Object> calibration = null;
        if (options.precision() == TensorRtPrecision.INT8 && with.get("calibration_table") != null) {
            ArtifactRef tableRef = artifacts.resolve(operator.name(), with, "calibration_table");
            artifacts.used(context, tableRef, "calibration_table");
            table = operator.loadTable(tableRef);
            calibration = new LinkedHashMap<>();
            calibration.put("table", tableRef.sha256());
            calibration.put("method", table.method());
            calibration.put("samples", table.samples());
            calibration.put("measured_on_model", table.modelSha256());
            calibration.put("same_model_file", modelRef.sha256().equals(table.modelSha256()));
        }
        TensorRtModels.Prepared prepared = TensorRtModels.prepare(model, options.precision(), table);
        byte[] onnx = prepared.model().toBytes();
        byte[] timingCache = null;
        if (with.get("timing_cache") != null) {
            ArtifactRef cacheRef = artifacts.resolve(operator.name(), with, "timing_cache");
            artifacts.used(context, cacheRef, "timing_cache");
            Path cacheFile = artifacts.fetch(cacheRef, ".cache");
            temporary.add(cacheFile);
            timingCache = Files.readAllBytes(cacheFile);
        }
        CompileOperator.Samples samples = operator.samples(context, with, options.samples(), temporary);
        refuseUnlessAdmitted(profiles.get(0), samples.shape());

        context.heartbeat(new Heartbeat("build"));
        long t0 = System.nanoTime();
        TensorRtBackend.Built built = backend.build(onnx, profiles, timingCache, options.workspaceBytes());
        double buildSeconds = (System.nanoTime() - t0) / 1e9;
        EngineManifest manifest = EngineManifest.of(built.plan(), sha256(onnx), device, options.precision(), profiles,
                built.inputs(), built.outputs());

        context.heartbeat(new Heartbeat("verify"));
        Map<String, Object> verification = verify(backend, built.plan(), modelFile, samples, options);

        Path plan = Files.createTempFile("anvil-compile-", ".plan");
        temporary.add(plan);
        Files.write(plan, built.plan());
        Path cache = Files.createTempFile("anvil-compile-", ".cache");
        temporary.add(cache);
        Files.write(cache, built.timingCache());
        ArtifactRef planRef = artifacts.publish(context, plan, PLAN_MEDIA_TYPE, "engine");
        ArtifactRef manifestRef = artifacts.publishJson(context, manifest, "engine_manifest");
        ArtifactRef cacheRef = artifacts.publish(context, cache, TIMING_CACHE_MEDIA_TYPE, "timing_cache");

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("target", "tensorrt");
        report.put("precision", options.precision().specName());
        report.put("device", deviceReport(device));
        report.put("model_for_tensorrt", prepared.how());
        report.put("profiles", artifacts.json().convertValue(profiles, List.class));
        report.put("build_seconds", CompileOperator.round(buildSeconds));
        report.put("size_before", modelRef.size());
        report.put("size_after", (long) built.plan().length);
        report.put("timing_cache", Map.of("given", timingCache != null, "used", built.timingCacheAccepted(),
                "bytes", built.timingCache().length));
        if (calibration != null) {
            report.put("calibration", calibration);
        }
        report.put("verification", verification);
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("engine", artifacts.asOutput(planRef));
        outputs.put("engine_manifest", artifacts.asOutput(manifestRef));
        outputs.put("timing_cache", artifacts.asOutput(cacheRef));
        outputs.put("report", report);
        return outputs;
    }

    /** {@code with.engine}: the manifest checked against this GPU before the plan is even fetched. */
    private Map<String, Object> verifyBuilt(TaskContext context, Map<String, Object> with, Options options,
            GpuDevice device, TensorRtBackend backend, Path modelFile, List<Path> temporary) throws Exception {
        ArtifactRef manifestRef = artifacts.resolve(operator.name(), with, "engine");
        artifacts.used(context, manifestRef, "engine_manifest");
        EngineManifest manifest;
        try {
            manifest = artifacts.loadScratch(manifestRef, EngineManifest.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("with.engine is not an engine manifest: " + e.getOriginalMessage()
                    + "; pass the engine_manifest output of a compile task with target tensorrt");
        }
        manifest.refuseUnlessRunsOn(device);
        ArtifactRef planRef = artifacts.resolve(operator.name(), Map.of("engine_plan", manifest.planSha256()),
                "engine_plan");
        artifacts.used(context, planRef, "engine");
        Path planFile = artifacts.fetch(planRef, ".plan");
        temporary.add(planFile);
        byte[] plan = Files.readAllBytes(planFile);
        manifest.refuseUnlessDescribes(plan);
        CompileOperator.Samples samples = operator.samples(context, with, options.samples(), temporary);
        refuseUnlessAdmitted(manifest.profiles().get(0), samples.shape());
        context.heartbeat(new Heartbeat("verify"));
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("target", "tensorrt");
        report.put("precision", manifest.precision());
        report.put("device", deviceReport(device));
        report.put("engine", "verified the engine of " + manifestRef.sha256() + "; nothing built or published");
        report.put("verification", verify(backend, plan, modelFile, samples, options));
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("engine", artifacts.asOutput(planRef));
        outputs.put("engine_manifest", artifacts.asOutput(manifestRef));
        outputs.put("report", report);
        return outputs;
    }

    private Map<String, Object> verify(TensorRtBackend backend, byte[] plan, Path reference,
            CompileOperator.Samples samples, Options options) throws Exception {
        TensorRtVerifier.Report r;
        try (TensorRtBackend.Engine engine = backend.load(plan)) {
            r = TensorRtVerifier.compare(reference, engine, samples.samples(), samples.shape(), samples.labels());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("runtime", "tensorrt engine vs onnxruntime (cpu, 1 thread) on the model as given");
        CompileOperator.putComparison(out, r.comparison(), samples.labels() != null);
        out.put("latency_p50_us", CompileOperator.round(r.engineP50Us()));
        out.put("latency_p95_us", CompileOperator.round(r.engineP95Us()));
        out.put("onnxruntime_latency_p50_us", CompileOperator.round(r.onnxRuntimeP50Us()));
        out.put("onnxruntime_latency_p95_us", CompileOperator.round(r.onnxRuntimeP95Us()));
        if (r.comparison().top1Agreement() < options.minAgreement()) {
            throw new InvalidTaskInputException(operator.name() + ": the TensorRT engine agrees with ONNX Runtime on "
                    + CompileOperator.round(r.comparison().top1Agreement()) + " of the top-1s on "
                    + r.comparison().samples() + " samples, under min_agreement " + options.minAgreement()
                    + " (max abs error " + r.comparison().maxAbsError() + "); nothing was published. Try a higher"
                    + " precision, or lower min_agreement if that is acceptable");
        }
        return out;
    }

    private static void refuseUnlessAdmitted(ShapeProfile profile, int[] sampleShape) {
        long[] shape = Arrays.stream(sampleShape).asLongStream().toArray();
        if (!profile.admits(shape)) {
            throw new IllegalArgumentException("verification runs batch-1 samples of shape " + Arrays.toString(shape)
                    + ", which the optimisation profile of input '" + profile.input() + "' (min " + profile.min()
                    + ", max " + profile.max() + ") does not admit; declare with.shapes." + profile.input()
                    + " with min " + Arrays.toString(shape));
        }
    }

    private static Map<String, Object> deviceReport(GpuDevice d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("gpu_name", d.name());
        m.put("compute_capability", d.computeCapability());
        m.put("tensorrt_version", d.tensorrt());
        m.put("cuda_version", d.cudaRuntime());
        m.put("cuda_driver_version", d.cudaDriver());
        return m;
    }

    private static String sha256(byte[] bytes) throws java.security.NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
