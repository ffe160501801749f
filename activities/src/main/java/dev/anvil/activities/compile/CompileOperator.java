package dev.anvil.activities.compile;

import ai.onnxruntime.OrtException;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.modelkit.compile.TfliteConverter;
import dev.anvil.modelkit.compile.TfliteVerifier;
import dev.anvil.modelkit.compile.tensorrt.GpuDevice;
import dev.anvil.modelkit.compile.tensorrt.JavaCppTensorRt;
import dev.anvil.modelkit.compile.tensorrt.TensorRtBackend;
import dev.anvil.modelkit.compile.tensorrt.TensorRtRuntime;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.quantize.CalibrationTable;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code compile}: an ONNX model to an edge/GPU runtime format. {@code target: tflite} converts on this worker
 * ({@link TfliteConverter}), optionally runs the .tflite in the TFLite interpreter on {@code dataset} against ONNX
 * Runtime FP32, and publishes it as {@value #TFLITE_MEDIA_TYPE}. {@code target: tensorrt} builds a TensorRT engine
 * on a GPU worker ({@link TensorRtCompile}).
 * An op the converter cannot take fails the task (not retried) before anything else is fetched or published.
 *
 * <p>{@code precision: int8} writes a full-integer model from {@code with.calibration_table}, the table a
 * {@code quantize} task (static mode) measured on this model, so one calibration serves ONNX INT8 and TFLite INT8. A
 * table whose tensor names do not cover the model (another model's) is refused naming the missing tensors.
 */
public final class CompileOperator implements Operator {
    public static final String TFLITE_MEDIA_TYPE = "application/vnd.tflite";

    /** What a heartbeat carries. */
    public record Heartbeat(String phase) {}

    private final ArtifactIO artifacts;
    private final TensorRtCompile tensorrt;

    /** This worker's compiler: TensorRT as {@link TensorRtRuntime#detect()} finds it (or the reason it is not here). */
    public CompileOperator(ArtifactIO artifacts) {
        this(artifacts, TensorRtRuntime::detect, device -> new JavaCppTensorRt());
    }

    /**
     * @param availability whether TensorRT runs on this worker, and on which device
     * @param backends     the TensorRT for that device (the real one, or a stand-in in tests)
     */
    public CompileOperator(ArtifactIO artifacts, Supplier<TensorRtRuntime.Availability> availability,
            Function<GpuDevice, TensorRtBackend> backends) {
        this.artifacts = artifacts;
        this.tensorrt = new TensorRtCompile(this, artifacts, availability, backends);
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.COMPILE;
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        List<Path> temporary = new ArrayList<>();
        try {
            if ("tensorrt".equals(with.get("target"))) {
                return tensorrt.run(context, with, temporary);
            }
            Options options = Options.parse(with);
            ArtifactRef modelRef = artifacts.resolve(name(), with, "model");
            artifacts.used(context, modelRef, "model");
            Path modelFile = artifacts.fetch(modelRef, ".onnx");
            temporary.add(modelFile);
            OnnxModel model = OnnxModel.read(modelFile);
            TfliteConverter.refuseUnsupported(model, options.precision());
            Map<String, Object> calibration = null;
            CalibrationTable table = null;
            if (options.precision() == TfliteConverter.Precision.INT8) {
                ArtifactRef tableRef = artifacts.resolve(name(), with, "calibration_table");
                artifacts.used(context, tableRef, "calibration_table");
                table = loadTable(tableRef);
                calibration = new LinkedHashMap<>();
                calibration.put("table", tableRef.sha256());
                calibration.put("method", table.method());
                calibration.put("samples", table.samples());
                calibration.put("measured_on_model", table.modelSha256());
                calibration.put("same_model_file", modelRef.sha256().equals(table.modelSha256()));
            }
            context.heartbeat(new Heartbeat("convert"));
            TfliteConverter.Result converted = options.precision() == TfliteConverter.Precision.INT8
                    ? TfliteConverter.convertInt8(model, table, options.io())
                    : TfliteConverter.convert(model, options.precision());
            Path result = Files.createTempFile("anvil-compile-", ".tflite");
            temporary.add(result);
            Files.write(result, converted.flatbuffer());
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("target", "tflite");
            report.put("precision", options.precisionName());
            report.put("size_before", modelRef.size());
            report.put("size_after", Files.size(result));
            report.put("size_ratio", round((double) Files.size(result) / modelRef.size()));
            report.put("tflite_ops", converted.tfliteOps());
            report.put("notes", converted.notes());
            report.put("input_layout", "as the ONNX model (NCHW); batch "
                    + (converted.dynamicBatch() ? "-1 in shape_signature (resizable)" : "fixed"));
            if (calibration != null) {
                report.put("io", io(options.io(), converted.io()));
                report.put("calibration", calibration);
            }
            if (with.get("dataset") != null) {
                context.heartbeat(new Heartbeat("verify"));
                report.put("verification", verify(context, with, modelFile, result, options.samples(), temporary));
            }
            ArtifactRef out = artifacts.publish(context, result, TFLITE_MEDIA_TYPE, "model");
            Map<String, Object> outputs = new LinkedHashMap<>();
            outputs.put("model", artifacts.asOutput(out));
            outputs.put("report", report);
            return outputs;
        } catch (InvalidModelException | DatasetFormatException | IllegalArgumentException | ClassCastException e) {
            throw new InvalidTaskInputException(name() + ": " + e.getMessage(), e);
        } finally {
            for (Path p : temporary) {
                Files.deleteIfExists(p);
            }
        }
    }

    private Map<String, Object> verify(TaskContext context, Map<String, Object> with, Path onnx, Path tflite,
            int limit, List<Path> temporary) throws IOException, OrtException {
        Samples v = samples(context, with, limit, temporary);
        TfliteVerifier.Report r = TfliteVerifier.compare(onnx, tflite, v.samples(), v.shape(), v.labels());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("runtime", "tflite interpreter (bytedeco tensorflow-lite 2.21.0) vs onnxruntime fp32");
        putComparison(out, r, v.labels() != null);
        return out;
    }

    /** Batch-1 samples of a one-input dataset, at most {@code limit} (0: all), with labels when it has them. */
    record Samples(List<float[]> samples, int[] shape, int[] labels) {}

    Samples samples(TaskContext context, Map<String, Object> with, int limit, List<Path> temporary)
            throws IOException {
        ArtifactRef datasetRef = artifacts.resolve(name(), with, "dataset");
        artifacts.used(context, datasetRef, "evaluation_dataset");
        Path datasetFile = artifacts.fetch(datasetRef, ".zip");
        temporary.add(datasetFile);
        Dataset dataset;
        try (DatasetReader reader = DatasetReader.open(datasetFile)) {
            dataset = reader.readAll();
        }
        if (dataset.inputs().size() != 1) {
            throw new IllegalArgumentException("verification takes a dataset with one input; this one has "
                    + dataset.inputs().keySet());
        }
        NpyArray x = dataset.inputs().values().iterator().next();
        long[] shape = x.shape();
        int per = 1;
        int[] one = new int[shape.length];
        one[0] = 1;
        for (int i = 1; i < shape.length; i++) {
            per *= (int) shape[i];
            one[i] = (int) shape[i];
        }
        float[] all = x.toFloatArray();
        int n = (int) Math.min(shape[0], limit > 0 ? limit : Long.MAX_VALUE);
        List<float[]> samples = new ArrayList<>(n);
        for (int s = 0; s < n; s++) {
            float[] v = new float[per];
            System.arraycopy(all, s * per, v, 0, per);
            samples.add(v);
        }
        int[] labels = dataset.labels().map(l -> {
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = (int) l.getLong(i);
            }
            return out;
        }).orElse(null);
        return new Samples(samples, one, labels);
    }

    static void putComparison(Map<String, Object> out, TfliteVerifier.Report r, boolean labelled) {
        out.put("samples", r.samples());
        out.put("top1_agreement", round(r.top1Agreement()));
        out.put("max_abs_error", r.maxAbsError());
        out.put("max_abs_error_probabilities", r.maxAbsErrorProbabilities());
        if (labelled) {
            out.put("accuracy", round(r.candidateAccuracy()));
            out.put("reference_accuracy", round(r.referenceAccuracy()));
            out.put("accuracy_drop_points", round(r.accuracyDropPoints()));
        }
    }

    /**
     * The table as the quantize operator published it. It is matched to the model by tensor names (checked at
     * conversion): a table measured on the same graph in another file (e.g. before a metadata-only change) fits.
     */
    CalibrationTable loadTable(ArtifactRef ref) throws IOException {
        CalibrationTable table;
        try {
            table = artifacts.loadScratch(ref, CalibrationTable.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new InvalidTaskInputException(name() + ": with.calibration_table is not a calibration table: "
                    + e.getOriginalMessage());
        }
        if (table == null || !CalibrationTable.FORMAT.equals(table.format()) || table.tensors() == null) {
            throw new InvalidTaskInputException(name() + ": with.calibration_table is not a calibration table (format '"
                    + (table == null ? null : table.format()) + "', expected " + CalibrationTable.FORMAT
                    + "); pass the calibration_table output of a quantize task in static mode");
        }
        return table;
    }

    /** What a caller of the model feeds and reads; for int8 I/O the scale and zero point of each tensor. */
    private static Map<String, Object> io(TfliteConverter.Io io, List<TfliteConverter.IoTensor> tensors) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("type", io == TfliteConverter.Io.INT8 ? "int8" : "float32");
        out.put("note", io == TfliteConverter.Io.INT8
                ? "int8 inputs and outputs: quantise an input as clamp(round(x / scale) + zero_point, -128, 127) and"
                        + " read an output as (q - zero_point) * scale"
                : "float32 inputs and outputs: a QUANTIZE after each input and a DEQUANTIZE before each output; int8"
                        + " inside");
        List<Map<String, Object>> list = new ArrayList<>();
        for (TfliteConverter.IoTensor t : tensors) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("role", t.role());
            m.put("name", t.name());
            m.put("type", t.type());
            m.put("shape", java.util.Arrays.stream(t.shape()).boxed().toList());
            if (t.scale() != null) {
                m.put("scale", t.scale().doubleValue());
                m.put("zero_point", t.zeroPoint());
            }
            list.add(m);
        }
        out.put("tensors", list);
        return out;
    }

    static double round(double v) {
        return Math.round(v * 1e6) / 1e6;
    }

    /** The task's options, checked before any download. */
    record Options(TfliteConverter.Precision precision, String precisionName, int samples, TfliteConverter.Io io) {
        static Options parse(Map<String, Object> with) {
            String target = String.valueOf(with.getOrDefault("target", "tflite"));
            if (!target.equals("tflite")) {
                throw new IllegalArgumentException("target must be tflite or tensorrt, got " + target);
            }
            for (String key : TensorRtCompile.TENSORRT_ONLY) {
                if (with.get(key) != null) {
                    throw new IllegalArgumentException("with." + key + " applies to target tensorrt only; remove it"
                            + " for target tflite");
                }
            }
            String precision = String.valueOf(with.getOrDefault("precision", "float32"));
            TfliteConverter.Precision p = switch (precision) {
                case "float32" -> TfliteConverter.Precision.FLOAT32;
                case "float16" -> TfliteConverter.Precision.FLOAT16;
                case "int8" -> {
                    if (with.get("calibration_table") == null) {
                        throw new IllegalArgumentException("precision int8 needs with.calibration_table: the"
                                + " calibration_table output of a quantize task (mode: static) run on this model");
                    }
                    yield TfliteConverter.Precision.INT8;
                }
                default -> throw new IllegalArgumentException("precision must be float32, float16 or int8, got "
                        + precision);
            };
            int samples = ((Number) with.getOrDefault("samples", 0)).intValue();
            String io = String.valueOf(with.getOrDefault("io", "float32"));
            TfliteConverter.Io i = switch (io) {
                case "float32" -> TfliteConverter.Io.FLOAT32;
                case "int8" -> {
                    if (p != TfliteConverter.Precision.INT8) {
                        throw new IllegalArgumentException("io int8 needs precision int8 (a full-integer model); this"
                                + " task's precision is " + precision + ", whose inputs and outputs are float32");
                    }
                    yield TfliteConverter.Io.INT8;
                }
                default -> throw new IllegalArgumentException("io must be float32 (default) or int8, got " + io);
            };
            return new Options(p, precision, samples, i);
        }
    }
}
