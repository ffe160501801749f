package dev.anvil.activities.convert;

import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.modelkit.convert.ConversionOptions;
import dev.anvil.modelkit.convert.ConversionReport;
import dev.anvil.modelkit.convert.InputShapes;
import dev.anvil.modelkit.convert.ModelConverter;
import dev.anvil.modelkit.convert.OpsetConverter;
import dev.anvil.modelkit.convert.OptimizationLevel;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code convert}: makes a deployable ONNX model. {@code with}:
 * <ul>
 *   <li>{@code model}: an artifact reference (an upstream task's output) or the sha256 of an uploaded model;</li>
 *   <li>{@code opset} (optional): the default-domain opset to raise to, {@value OpsetConverter#MIN_SOURCE_OPSET}
 *       to {@value OpsetConverter#MAX_TARGET_OPSET}; left out, the model's opset is kept;</li>
 *   <li>{@code optimization} (default {@code basic}): {@code none}, {@code basic}, {@code extended} or {@code all}
 *       (see {@link OptimizationLevel}: extended and all emit ONNX Runtime's own operators, all also
 *       layouts tuned to the converting machine);</li>
 *   <li>{@code fp16} (default false): compute in float16, inputs and outputs staying float32;</li>
 *   <li>{@code dataset} (optional): a dataset artifact whose first samples the self-check feeds both models;</li>
 *   <li>{@code shapes} (optional): sizes of free dimensions for the self-check's synthetic batch, per input
 *       ({@code {"images": [1, 3, 640, 640]}}) or per dimension name ({@code {"batch": 1, "height": 640}}).</li>
 * </ul>
 * Records that it used the model ({@code used/model}) and any dataset ({@code used/dataset}), publishes the result
 * ({@code generated/model}) and outputs {@code model} (the result's reference), {@code report}
 * ({@link ConversionReport}), {@code verified} (whether the self-check compared outputs), {@code verified_reason}
 * (why not, when not) and {@code warnings}. A model that cannot be converted as asked is bad input: the task fails
 * once with the reason.
 */
public final class ConvertOperator implements Operator {
    public static final String NAME = BuiltInOperators.CONVERT.name();
    private static final Set<String> KEYS = Set.of("model", "opset", "optimization", "fp16", "dataset", "shapes");

    private final ArtifactIO io;
    private final ModelConverter converter;

    public ConvertOperator(ArtifactIO io, ModelConverter converter) {
        this.io = io;
        this.converter = converter;
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.CONVERT;
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        ConversionOptions options = options(with);
        ArtifactRef model = io.resolve(NAME, with, "model");
        io.used(context, model, "model");
        Path input = io.fetch(model, ".onnx");
        Path dataset = null;
        Path output = Files.createTempFile("anvil-convert-", ".onnx");
        try {
            if (with.get("dataset") != null) {
                ArtifactRef datasetRef = io.resolve(NAME, with, "dataset");
                io.used(context, datasetRef, "dataset");
                dataset = io.fetch(datasetRef, ".zip");
                options = options.withSelfCheck(options.shapes(), dataset);
            }
            ConversionReport report;
            try {
                report = converter.convert(input, output, options, stage -> context.heartbeat(Map.of("stage", stage)));
            } catch (InvalidModelException e) {
                throw new InvalidTaskInputException(NAME + ": " + e.getMessage(), e);
            }
            ArtifactRef converted = io.publish(context, output, ArtifactIO.ONNX_MEDIA_TYPE, "model");
            Map<String, Object> outputs = new LinkedHashMap<>();
            outputs.put("model", io.asOutput(converted));
            outputs.put("report", io.json().convertValue(report, Map.class));
            outputs.put("verified", report.verification().verified());
            if (!report.verification().verified()) {
                outputs.put("verified_reason", report.verification().reason());
            }
            outputs.put("warnings", report.warnings());
            return outputs;
        } finally {
            Files.deleteIfExists(input);
            if (dataset != null) {
                Files.deleteIfExists(dataset);
            }
            Files.deleteIfExists(output);
        }
    }

    static ConversionOptions options(Map<String, Object> with) {
        Set<String> unknown = new TreeSet<>(with.keySet());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            throw new InvalidTaskInputException(NAME + " does not take with." + String.join(", with.", unknown)
                    + "; it takes model, opset, optimization, fp16, dataset and shapes");
        }
        Integer opset = null;
        Object o = with.get("opset");
        if (o != null) {
            if (!(o instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
                    || n.doubleValue() < OpsetConverter.MIN_SOURCE_OPSET || n.doubleValue() > OpsetConverter.MAX_TARGET_OPSET) {
                throw new InvalidTaskInputException(NAME + ": with.opset must be a whole number from "
                        + OpsetConverter.MIN_SOURCE_OPSET + " to " + OpsetConverter.MAX_TARGET_OPSET + " (the ai.onnx opset to"
                        + " raise to; leave it out to keep the model's); got " + o);
            }
            opset = n.intValue();
        }
        OptimizationLevel level = OptimizationLevel.BASIC;
        Object l = with.get("optimization");
        if (l != null) {
            level = OptimizationLevel.parse(String.valueOf(l)).filter(x -> l instanceof String)
                    .orElseThrow(() -> new InvalidTaskInputException(NAME + ": with.optimization must be one of none, basic,"
                            + " extended, all; got " + l));
        }
        Object f = with.get("fp16");
        if (f != null && !(f instanceof Boolean)) {
            throw new InvalidTaskInputException(NAME + ": with.fp16 must be true or false; got " + f);
        }
        return ConversionOptions.of(opset, level, Boolean.TRUE.equals(f)).withSelfCheck(shapes(with.get("shapes")), null);
    }

    /**
     * {@code with.shapes}: a list of sizes is an input's whole shape, a number the size of a named dimension.
     * Whether they fit the model is checked when the model is open (the error names the input).
     */
    static InputShapes shapes(Object value) {
        if (value == null) {
            return InputShapes.none();
        }
        String form = "; give {\"<input>\": [1, 3, 224, 224]} or {\"<dimension name>\": 224}";
        if (!(value instanceof Map<?, ?> map)) {
            throw new InvalidTaskInputException(NAME + ": with.shapes must be an object; got " + value + form);
        }
        Map<String, List<Long>> byInput = new LinkedHashMap<>();
        Map<String, Long> byDimension = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (e.getValue() instanceof List<?> list) {
                List<Long> sizes = new ArrayList<>();
                for (Object size : list) {
                    sizes.add(wholeSize(key, size, form));
                }
                byInput.put(key, sizes);
            } else {
                byDimension.put(key, wholeSize(key, e.getValue(), form));
            }
        }
        return new InputShapes(byInput, byDimension);
    }

    private static long wholeSize(String key, Object size, String form) {
        if (!(size instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.doubleValue() < 1
                || n.doubleValue() > Integer.MAX_VALUE) {
            throw new InvalidTaskInputException(NAME + ": with.shapes." + key + " holds " + size
                    + "; sizes must be whole numbers of at least 1" + form);
        }
        return n.longValue();
    }
}
