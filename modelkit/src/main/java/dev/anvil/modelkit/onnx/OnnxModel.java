package dev.anvil.modelkit.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.anvil.modelkit.onnx.proto.OnnxMl;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.StringStringEntryProto;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An ONNX model held in memory for rewriting: the generated {@code ModelProto} builder plus the
 * rules of the format that every rewrite must respect (weights are inline: external data is refused,
 * see {@link ExternalData}; opsets are per domain; the default domain is {@code ""} or {@code "ai.onnx"}).
 *
 * <p>Graph-level editing goes through {@link #graph()}.
 */
public final class OnnxModel {
    /** Protobuf refuses messages over 2 GiB. */
    private static final int PROTOBUF_LIMIT = Integer.MAX_VALUE;
    /** ONNX's own limit: files at or above it cannot be one protobuf. */
    private static final long MAX_SINGLE_FILE = 2L * 1024 * 1024 * 1024;

    private final ModelProto.Builder proto;
    private final OnnxGraph graph;

    private OnnxModel(ModelProto.Builder proto) {
        this.proto = proto;
        this.graph = new OnnxGraph(proto.getGraphBuilder());
    }

    public static OnnxModel of(ModelProto model) {
        return new OnnxModel(model.toBuilder());
    }

    /**
     * Reads a model file. Files beside it are never opened: a tensor kept in external data is refused.
     *
     * @throws InvalidModelException when the file is not an ONNX model, or keeps weights in external data
     */
    public static OnnxModel read(Path file) throws IOException {
        checkFileSize(file);
        ModelProto model;
        try (InputStream in = Files.newInputStream(file)) {
            model = parse(CodedInputStream.newInstance(in));
        }
        return new OnnxModel(model.toBuilder());
    }

    /**
     * What a model file says about itself, without holding its weights: the file is mapped rather
     * than read, and the parser aliases every bytes field (raw_data above all) to the mapping instead
     * of copying it, so the heap holds the graph's nodes and names, not its tensors. Weights kept in
     * repeated fields (float_data and the like, which few exporters write) are still decoded. This is
     * the cheap scan that {@link OrtSessions} runs before every session.
     *
     * @throws InvalidModelException when the file is not an ONNX model, or keeps weights in external data
     */
    public static ModelStructure readStructure(Path file) throws IOException {
        checkFileSize(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            // The model does not outlive this method, so nothing reads the mapping after it returns.
            CodedInputStream coded = UnsafeByteOperations.unsafeWrap(mapped).newCodedInput();
            coded.enableAliasing(true);
            return ModelStructure.of(parse(coded));
        }
    }

    /**
     * The model's inputs and outputs (names, element types, shapes), read the way {@link #readStructure}
     * reads: mapped, weights aliased rather than copied.
     *
     * @throws InvalidModelException when the file is not an ONNX model, or keeps weights in external data
     */
    public static ModelSignature readSignature(Path file) throws IOException {
        checkFileSize(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            CodedInputStream coded = UnsafeByteOperations.unsafeWrap(mapped).newCodedInput();
            coded.enableAliasing(true);
            return ModelSignature.of(parse(coded));
        }
    }

    /** Parses model bytes. */
    public static OnnxModel parse(byte[] bytes) throws InvalidModelException {
        if (bytes.length == 0) {
            throw new InvalidModelException("not an ONNX model: the file is empty");
        }
        return new OnnxModel(parse(CodedInputStream.newInstance(bytes)).toBuilder());
    }

    private static void checkFileSize(Path file) throws IOException {
        long size = Files.size(file);
        if (size == 0) {
            throw new InvalidModelException("not an ONNX model: the file is empty");
        }
        if (size >= MAX_SINGLE_FILE) {
            throw new InvalidModelException("the model file is " + size + " bytes; a model must be one ONNX protobuf"
                    + " under 2 GiB (external data is not supported)");
        }
    }

    /**
     * The one way in for every reader: protobuf limits, the fields every ModelProto carries, and weights
     * inline ({@link ExternalData}).
     */
    private static ModelProto parse(CodedInputStream coded) throws InvalidModelException {
        coded.setSizeLimit(PROTOBUF_LIMIT);
        coded.setRecursionLimit(1000);
        ModelProto model;
        try {
            model = ModelProto.parseFrom(coded);
        } catch (InvalidProtocolBufferException e) {
            throw new InvalidModelException("not an ONNX model: the file is not a well-formed protobuf, or is cut short ("
                    + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new InvalidModelException("not an ONNX model: " + e.getMessage(), e);
        }
        List<String> missing = new ArrayList<>();
        if (model.getIrVersion() <= 0) {
            missing.add("ir_version");
        }
        if (model.getOpsetImportCount() == 0) {
            missing.add("opset_import");
        }
        if (!model.hasGraph()) {
            missing.add("graph");
        }
        if (!missing.isEmpty()) {
            throw new InvalidModelException("not an ONNX model: the protobuf has no " + String.join(", no ", missing)
                    + " (an ONNX ModelProto always has an ir_version, an opset_import and a graph)");
        }
        ExternalData.refuse(model);
        return model;
    }

    public ModelProto.Builder proto() {
        return proto;
    }

    public OnnxGraph graph() {
        return graph;
    }

    public ModelProto build() {
        return proto.build();
    }

    public byte[] toBytes() {
        return build().toByteArray();
    }

    /**
     * This model with {@code tensors} added as graph outputs, typed float with the shape left to inference, so a
     * session returns intermediate values (calibration, activation statistics); outputs it already has are not
     * added again. The model itself is unchanged.
     */
    public ModelProto withFloatOutputs(java.util.Set<String> tensors) {
        ModelProto.Builder copy = build().toBuilder();
        java.util.Set<String> existing = new java.util.HashSet<>();
        copy.getGraph().getOutputList().forEach(v -> existing.add(v.getName()));
        for (String t : tensors) {
            if (existing.add(t)) {
                copy.getGraphBuilder().addOutput(OnnxMl.ValueInfoProto.newBuilder().setName(t)
                        .setType(OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                                .setElemType(OnnxMl.TensorProto.DataType.FLOAT_VALUE))));
            }
        }
        return copy.build();
    }

    /** Writes the model as one file, every tensor inline. */
    public void write(Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            build().writeTo(out);
        }
    }

    /** The opset version imported for a domain ({@code ""} and {@code "ai.onnx"} are the same domain). */
    public Optional<Long> opset(String domain) {
        String wanted = OnnxGraph.canonicalDomain(domain);
        for (OperatorSetIdProto id : proto.getOpsetImportList()) {
            if (OnnxGraph.canonicalDomain(id.getDomain()).equals(wanted)) {
                return Optional.of(id.getVersion());
            }
        }
        return Optional.empty();
    }

    /** Sets (or adds) the opset version imported for a domain. */
    public void setOpset(String domain, long version) {
        String wanted = OnnxGraph.canonicalDomain(domain);
        for (OperatorSetIdProto.Builder id : proto.getOpsetImportBuilderList()) {
            if (OnnxGraph.canonicalDomain(id.getDomain()).equals(wanted)) {
                id.setVersion(version);
                return;
            }
        }
        proto.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(domain).setVersion(version));
    }

    /** Every imported domain and its version, the default domain as {@code ""}. */
    public Map<String, Long> opsets() {
        Map<String, Long> opsets = new LinkedHashMap<>();
        for (OperatorSetIdProto id : proto.getOpsetImportList()) {
            opsets.put(OnnxGraph.canonicalDomain(id.getDomain()), id.getVersion());
        }
        return opsets;
    }

    /** Adds a metadata entry (e.g. what produced this rewrite), replacing one with the same key. */
    public void putMetadata(String key, String value) {
        List<StringStringEntryProto> kept = new ArrayList<>();
        for (StringStringEntryProto entry : proto.getMetadataPropsList()) {
            if (!entry.getKey().equals(key)) {
                kept.add(entry);
            }
        }
        proto.clearMetadataProps().addAllMetadataProps(kept).addMetadataProps(entry(key, value));
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }
}
