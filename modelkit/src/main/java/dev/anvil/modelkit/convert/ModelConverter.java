package dev.anvil.modelkit.convert;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.OrtErrors;
import dev.anvil.modelkit.onnx.OrtSessions;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Turns an ONNX model into a deployable one, on files, with no Temporal or database in sight:
 * <ol>
 *   <li>validate: structure ({@link ModelValidator}) and that ONNX Runtime loads it;</li>
 *   <li>raise the default-domain opset when asked ({@link OpsetConverter});</li>
 *   <li>apply an ONNX Runtime graph optimisation level and save its result ({@link OptimizationLevel});</li>
 *   <li>optionally compute in float16 with float32 inputs and outputs ({@link Fp16Converter});</li>
 *   <li>verify: the result loads, and on the first samples of a dataset, or a synthetic batch of realistic
 *       shapes ({@link Verifier}), its outputs match the original's (float32 results must agree to about 1e-3
 *       relative, or the conversion fails; float16 results are measured and fail only when they overflow to
 *       inf/NaN). A check that could not run is reported as {@code verified: false} with its reason and a
 *       warning; a result larger than its source is a warning naming the stages that grew it.</li>
 * </ol>
 * A model that already is what was asked still gets a new file (with an {@code anvil.convert} metadata
 * entry saying what was done).
 */
public final class ModelConverter {
    /** Float32 outputs may differ by this much relative to the output's largest magnitude (fusions reorder sums). */
    static final double FLOAT32_REL_TOLERANCE = 1e-3;
    /** ... unless the absolute difference is below this. */
    static final double FLOAT32_ABS_TOLERANCE = 1e-4;
    public static final String METADATA_KEY = "anvil.convert";

    private final OrtEnvironment environment;
    private final OpsetConverter opsets = new OpsetConverter();

    public ModelConverter(OrtEnvironment environment) {
        this.environment = environment;
    }

    public ConversionReport convert(Path input, Path output, ConversionOptions options) throws IOException, OrtException {
        return convert(input, output, options, stage -> { });
    }

    /**
     * Converts {@code input} (weights inline: a model with external data is refused) into {@code output}, a single
     * self-contained file.
     *
     * @param progress told the name of each stage as it starts (for heartbeats)
     * @throws InvalidModelException when the model is not valid, cannot be converted as asked, or the
     *     result does not match the original; the message says which
     * @throws OrtException for runtime faults that are not the model's
     */
    public ConversionReport convert(Path input, Path output, ConversionOptions options, Consumer<String> progress)
            throws IOException, OrtException {
        long started = System.nanoTime();
        progress.accept("validate");
        OnnxModel original = OnnxModel.read(input);
        ModelValidator.check(original);
        long sourceOpset = original.opset("").orElse(0L);
        if (options.targetOpset().isPresent()) {
            if (original.opset("").isEmpty()) {
                throw new InvalidModelException("the model does not import the default ONNX domain (ai.onnx), so it has no"
                        + " opset to raise; leave opset out");
            }
            OpsetConverter.checkTarget(sourceOpset, options.targetOpset().getAsLong());
        }
        Stats before = Stats.of(original, Files.size(input));
        Path work = Files.createTempDirectory("anvil-convert-");
        try {
            Path source = work.resolve("source.onnx");
            original.write(source);
            load(source, "the model");
            List<String> notes = new ArrayList<>();
            List<String> warnings = new ArrayList<>();
            OnnxModel model = OnnxModel.of(original.build());
            SizeGrowth growth = new SizeGrowth(model);

            List<ConversionReport.Adaptation> adaptations = List.of();
            if (options.targetOpset().isPresent() && options.targetOpset().getAsLong() != sourceOpset) {
                progress.accept("opset");
                TensorTypes types = probe(original, "the model");
                adaptations = opsets.raise(model, options.targetOpset().getAsLong(), types);
                growth.after("opset " + options.targetOpset().getAsLong(), model,
                        "the opset raise rewrote " + adaptations.stream().mapToInt(ConversionReport.Adaptation::nodes).sum()
                                + " nodes (constant inputs that were attributes, added nodes)");
                Path raised = work.resolve("raised.onnx");
                model.write(raised);
                load(raised, "the model raised to opset " + options.targetOpset().getAsLong());
            }

            if (options.optimization() != OptimizationLevel.NONE) {
                progress.accept("optimize");
                Path staged = work.resolve("staged.onnx");
                model.write(staged);
                Path optimized = work.resolve("optimized.onnx");
                optimize(staged, optimized, options.optimization());
                model = OnnxModel.read(optimized);
                growth.after("optimization " + options.optimization().label(), model, "ONNX Runtime's optimisation"
                        + " folded, fused or re-laid out nodes and weights"
                        + (options.optimization() == OptimizationLevel.ALL ? " (blocked NCHWc weight layouts)" : ""));
                if (options.optimization() == OptimizationLevel.EXTENDED || options.optimization() == OptimizationLevel.ALL) {
                    notes.add("optimization " + options.optimization().label() + " may use ONNX Runtime's own operators"
                            + " (com.microsoft domain), so the model needs ONNX Runtime; fusions are chosen for the CPU"
                            + " execution provider");
                }
                if (options.optimization() == OptimizationLevel.ALL) {
                    notes.add("optimization all may use blocked memory layouts (com.microsoft.nchwc) tuned to this machine's"
                            + " CPU; use basic or extended for models that run elsewhere");
                }
            }

            Fp16Converter.Summary fp16 = null;
            if (options.fp16()) {
                progress.accept("fp16");
                fp16 = Fp16Converter.convert(model, probe(model, "the model before fp16 conversion"),
                        m -> TensorTypes.probe(environment, m));
                growth.after("fp16", model, "fp16 added " + fp16.castsInserted() + " Cast nodes around float32 inputs,"
                        + " outputs and kept operators; on a model with few weights they outweigh the halved weights");
                if (fp16.subgraphsConverted() > 0) {
                    notes.add("fp16 converted " + fp16.subgraphsConverted() + " control-flow sub-graph(s) inside; their"
                            + " If/Loop/Scan nodes keep float32 inputs and outputs, with Casts inside");
                }
                if (!fp16.keptFloat32().isEmpty()) {
                    notes.add("kept in float32 (with casts around them): " + fp16.keptFloat32());
                }
            }

            dropUnusedOpsetImports(model);
            model.putMetadata(METADATA_KEY, options.describe() + " (opset before: " + sourceOpset + ")");
            model.write(output);
            progress.accept("verify");
            load(output, "the converted model");
            ConversionReport.Verification verification = Verifier.compare(environment, original, source, output, options);
            check(verification, options.fp16());
            if (!verification.verified()) {
                warnings.add("not verified: the converted model's outputs were not compared with the original's ("
                        + verification.reason() + ")");
            }
            Stats after = Stats.of(model, Files.size(output));
            growth.describe(before.size, after.size)
                    .ifPresent(larger -> (growth.material(before.size, after.size) ? warnings : notes).add(larger));
            long durationMs = (System.nanoTime() - started) / 1_000_000;
            return new ConversionReport(sourceOpset, model.opset("").orElse(0L), before.opsets, after.opsets,
                    before.irVersion, after.irVersion, before.nodes, after.nodes, before.opTypes, after.opTypes,
                    before.size, after.size, options.fp16(), options.optimization().label(), adaptations, fp16,
                    verification, notes, warnings, durationMs);
        } finally {
            deleteTree(work);
        }
    }

    private void load(Path model, String what) throws IOException, OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            options.setIntraOpNumThreads(1);
            try (OrtSession session = OrtSessions.open(environment, model, options)) {
                session.getNumOutputs();
            }
        } catch (OrtException e) {
            throw modelError(what, e);
        }
    }

    private TensorTypes probe(OnnxModel model, String what) throws OrtException {
        try {
            return TensorTypes.probe(environment, model);
        } catch (OrtException e) {
            throw modelError(what, e);
        }
    }

    private void optimize(Path in, Path out, OptimizationLevel level) throws IOException, OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(level.ort());
            options.setIntraOpNumThreads(1);
            options.setOptimizedModelFilePath(out.toString());
            try (OrtSession session = OrtSessions.open(environment, in, options)) {
                session.getNumOutputs();
            }
        } catch (OrtException e) {
            throw modelError("optimization " + level.label() + " of the model", e);
        }
    }

    private static OrtException modelError(String what, OrtException e) throws OrtException {
        if (OrtErrors.isModelError(e) || e.getCode() == OrtException.OrtErrorCode.ORT_NO_SUCHFILE) {
            throw new InvalidModelException("ONNX Runtime cannot load " + what + ": " + e.getMessage(), e);
        }
        return e;
    }

    private static void check(ConversionReport.Verification v, boolean fp16) {
        for (Map.Entry<String, Double> e : v.maxAbsDiff().entrySet()) {
            double abs = e.getValue();
            double rel = v.maxRelDiff().get(e.getKey());
            if (Double.isInfinite(abs)) {
                throw new InvalidModelException("the converted model's output '" + e.getKey() + "' has NaN or infinite values"
                        + " where the original's are finite" + (fp16 ? " (float16 overflow: convert without fp16)" : ""));
            }
            if (!fp16 && abs > FLOAT32_ABS_TOLERANCE && rel > FLOAT32_REL_TOLERANCE) {
                throw new InvalidModelException("the converted model's output '" + e.getKey() + "' differs from the original's"
                        + " by up to " + abs + " (" + rel + " of its largest value) on " + v.inputs() + "; the conversion"
                        + " changed what the model computes and was not kept");
            }
        }
    }

    /** ORT saves imports of every domain it knows; keep the default domain and the domains nodes use. */
    private static void dropUnusedOpsetImports(OnnxModel model) {
        Set<String> used = new HashSet<>();
        used.add("");
        collectDomains(model.graph().proto().build(), used);
        List<OperatorSetIdProto> kept = model.proto().getOpsetImportList().stream()
                .filter(id -> used.contains(OnnxGraph.canonicalDomain(id.getDomain()))).toList();
        model.proto().clearOpsetImport().addAllOpsetImport(kept);
    }

    private static void collectDomains(GraphProto g, Set<String> into) {
        for (NodeProto n : g.getNodeList()) {
            into.add(OnnxGraph.canonicalDomain(n.getDomain()));
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasG()) {
                    collectDomains(a.getG(), into);
                }
                a.getGraphsList().forEach(sub -> collectDomains(sub, into));
            }
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // a temporary file left behind is not worth failing the conversion for
                }
            });
        } catch (IOException e) {
            // as above
        }
    }

    /** Counts for the report. */
    private record Stats(Map<String, Long> opsets, long irVersion, int nodes, Map<String, Integer> opTypes, long size) {
        static Stats of(OnnxModel model, long size) {
            Map<String, Integer> ops = new TreeMap<>();
            for (NodeProto n : model.graph().nodes()) {
                String domain = OnnxGraph.canonicalDomain(n.getDomain());
                ops.merge(domain.isEmpty() ? n.getOpType() : domain + ":" + n.getOpType(), 1, Integer::sum);
            }
            Map<String, Long> opsets = new LinkedHashMap<>();
            model.opsets().forEach((d, v) -> opsets.put(d.isEmpty() ? "ai.onnx" : d, v));
            return new Stats(opsets, model.proto().getIrVersion(), model.graph().nodes().size(), ops, size);
        }
    }
}
