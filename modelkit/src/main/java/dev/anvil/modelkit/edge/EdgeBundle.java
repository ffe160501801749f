package dev.anvil.modelkit.edge;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.anvil.modelkit.onnx.OrtSessions;
import dev.anvil.modelkit.tflite.TfliteModel;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A device bundle: one zip holding the model in its target runtime's format, the labels, and {@value #MANIFEST}
 * (the model's inputs and outputs with shapes and dtypes, the preprocessing, the labels, quantisation parameters,
 * the sha256 of every other file and the model's signed provenance). A device checks each file against the
 * manifest before it loads anything. The same inputs give the same bytes (fixed entry times, fixed order).
 */
public final class EdgeBundle {
    public static final String MANIFEST = "manifest.json";
    public static final String LABELS = "labels.txt";
    public static final String FORMAT = "anvil-edge-bundle/1";
    // the zip format's earliest time (1980-01-01), so a bundle's bytes depend on its content only
    private static final long ENTRY_TIME = 315532800000L;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The runtimes a bundle can be made for, with the model file each one loads. */
    public enum Target {
        TFLITE("tflite", "model.tflite", "TensorFlow Lite interpreter"),
        ONNX("onnx", "model.onnx", "ONNX Runtime");

        public final String id;
        public final String modelFile;
        final String runtime;

        Target(String id, String modelFile, String runtime) {
            this.id = id;
            this.modelFile = modelFile;
            this.runtime = runtime;
        }

        public static Target of(String id) {
            for (Target t : values()) {
                if (t.id.equals(id)) {
                    return t;
                }
            }
            throw new InvalidBundleInputException("target must be one of tflite, onnx; got " + id);
        }
    }

    /**
     * What goes into a bundle. labels may be null; preprocessing may be empty; provenance is the model's signed
     * DSSE envelopes (JSON values), empty only when unsigned is true, and then the manifest says the model is unsigned.
     */
    public record Request(Target target, Path model, String modelSha256, Path labels, Map<String, Object> preprocessing,
            List<Object> provenance, boolean unsigned) {
    }

    /** What was written: the manifest as a JSON tree's map, and the files' sha256 by path. */
    public record Result(Map<String, Object> manifest, Map<String, String> sha256s) {
    }

    private EdgeBundle() {}

    /** Checks the request and writes the bundle to out; bad input throws {@link InvalidBundleInputException}. */
    public static Result write(Request request, Path out) throws IOException {
        if (request.provenance().isEmpty() && !request.unsigned()) {
            throw new InvalidBundleInputException("model " + request.modelSha256() + " has no signed provenance (it was"
                    + " uploaded, not made by a pipeline task); make it with a task (e.g. compile) or set"
                    + " with.allow_unsigned: true");
        }
        Map<String, Object> signature = signature(request.target(), request.model());
        List<String> labels = request.labels() == null ? null : labels(request.labels());
        if (labels != null) {
            checkLabels(labels, signature);
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(request.target().modelFile, Files.readAllBytes(request.model()));
        if (labels != null) {
            files.put(LABELS, Files.readAllBytes(request.labels()));
        }
        Map<String, String> sha256s = new LinkedHashMap<>();
        List<Map<String, Object>> listed = new ArrayList<>();
        files.forEach((path, bytes) -> {
            String sha = sha256(bytes);
            sha256s.put(path, sha);
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("path", path);
            f.put("sha256", sha);
            f.put("size", bytes.length);
            listed.add(f);
        });
        if (!sha256s.get(request.target().modelFile).equals(request.modelSha256())) {
            throw new IllegalStateException("the model file's sha256 " + sha256s.get(request.target().modelFile)
                    + " is not the artifact's " + request.modelSha256());
        }
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("format", FORMAT);
        manifest.put("target", request.target().id);
        manifest.put("runtime", request.target().runtime);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("file", request.target().modelFile);
        model.put("sha256", request.modelSha256());
        manifest.put("model", model);
        manifest.putAll(signature);
        manifest.put("preprocessing", request.preprocessing().isEmpty() ? null : request.preprocessing());
        if (labels != null) {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("file", LABELS);
            l.put("names", labels);
            manifest.put("labels", l);
        } else {
            manifest.put("labels", null);
        }
        manifest.put("files", listed);
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("signed", !request.provenance().isEmpty());
        provenance.put("subject_sha256", request.modelSha256());
        provenance.put("envelopes", request.provenance());
        if (request.provenance().isEmpty()) {
            provenance.put("reason", "the model was uploaded, not made by a pipeline task; packaged with allow_unsigned");
        }
        manifest.put("provenance", provenance);
        files.put(MANIFEST, JSON.writeValueAsBytes(manifest));
        sha256s.put(MANIFEST, sha256(files.get(MANIFEST)));
        try (OutputStream os = Files.newOutputStream(out); ZipOutputStream zip = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                ZipEntry entry = new ZipEntry(f.getKey());
                entry.setTime(ENTRY_TIME);
                zip.putNextEntry(entry);
                zip.write(f.getValue());
                zip.closeEntry();
            }
        }
        return new Result(manifest, sha256s);
    }

    /** inputs and outputs as the target runtime itself describes them, refusing a model the target cannot load. */
    static Map<String, Object> signature(Target target, Path model) throws IOException {
        boolean tflite = TfliteModel.isTflite(model);
        if (target == Target.TFLITE && !tflite) {
            throw new InvalidBundleInputException("target tflite needs a .tflite model, and this one is not a TFLite"
                    + " flatbuffer (no \"" + TfliteModel.IDENTIFIER + "\" identifier); compile it first (operator"
                    + " compile, target tflite) and package its model output");
        }
        if (target == Target.ONNX && tflite) {
            throw new InvalidBundleInputException("target onnx needs an ONNX model, and this one is a TFLite"
                    + " flatbuffer; package it with target tflite");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        if (target == Target.TFLITE) {
            try (TfliteModel m = TfliteModel.open(model, 1)) {
                out.put("inputs", m.inputs().stream().map(EdgeBundle::tensor).toList());
                out.put("outputs", m.outputs().stream().map(EdgeBundle::tensor).toList());
            }
            return out;
        }
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
                OrtSession session = OrtSessions.open(OrtEnvironment.getEnvironment(), model, options)) {
            out.put("inputs", tensors(session.getInputInfo()));
            out.put("outputs", tensors(session.getOutputInfo()));
            return out;
        } catch (OrtException e) {
            throw new InvalidBundleInputException("target onnx needs an ONNX model ONNX Runtime can load: "
                    + e.getMessage());
        } catch (dev.anvil.modelkit.onnx.InvalidModelException e) {
            throw new InvalidBundleInputException("the model cannot be packaged: " + e.getMessage());
        }
    }

    private static Map<String, Object> tensor(TfliteModel.Tensor t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", t.name());
        m.put("dtype", t.type().name().toLowerCase(Locale.ROOT));
        m.put("shape", Arrays.stream(t.shape()).boxed().toList());
        if (t.quantized()) {
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("scale", t.scale());
            q.put("zero_point", t.zeroPoint());
            m.put("quantization", q);
        } else {
            m.put("quantization", null);
        }
        return m;
    }

    private static List<Map<String, Object>> tensors(Map<String, NodeInfo> nodes) {
        List<Map<String, Object>> list = new ArrayList<>();
        nodes.forEach((name, node) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            if (node.getInfo() instanceof TensorInfo t) {
                m.put("dtype", switch (t.type) {
                    case FLOAT -> "float32";
                    case DOUBLE -> "float64";
                    default -> t.type.name().toLowerCase(Locale.ROOT);
                });
                m.put("shape", Arrays.stream(t.getShape()).boxed().toList());
            } else {
                m.put("dtype", null);
                m.put("kind", node.getInfo().toString());
            }
            // ONNX carries quantisation inside the graph (QuantizeLinear/DequantizeLinear), not on its inputs
            m.put("quantization", null);
            list.add(m);
        });
        return list;
    }

    static List<String> labels(Path file) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidBundleInputException("the labels file is not UTF-8 text; give one class name per line");
        }
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\r?\n", -1)));
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1);
        }
        if (lines.isEmpty()) {
            throw new InvalidBundleInputException("the labels file is empty; give one class name per line");
        }
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                throw new InvalidBundleInputException("line " + (i + 1) + " of the labels file is blank; every class"
                        + " needs a name");
            }
        }
        return List.copyOf(lines);
    }

    @SuppressWarnings("unchecked")
    private static void checkLabels(List<String> labels, Map<String, Object> signature) {
        List<Map<String, Object>> outputs = (List<Map<String, Object>>) signature.get("outputs");
        if (outputs.isEmpty() || !(outputs.get(0).get("shape") instanceof List<?> shape) || shape.isEmpty()) {
            return;
        }
        long classes = ((Number) shape.get(shape.size() - 1)).longValue();
        if (classes > 0 && classes != labels.size()) {
            throw new InvalidBundleInputException("the labels file names " + labels.size() + " classes, but output '"
                    + outputs.get(0).get("name") + "' has " + classes + " (shape " + shape + ")");
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
