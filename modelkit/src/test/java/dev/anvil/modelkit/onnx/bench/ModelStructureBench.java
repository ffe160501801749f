package dev.anvil.modelkit.onnx.bench;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.ModelStructure;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Heap cost of {@link OnnxModel#readStructure} on cnn_mnist, MiniLM and a generated model of
 * {@code ANVIL_BENCH_MIB} MiB (default 1024) whose one initializer is a sparse file's hole. The JVM
 * runs with a small heap (see bench/model-structure.sh): that the large models pass at all is the
 * point. See bench/README.md.
 */
public final class ModelStructureBench {
    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("anvil-structure-bench-");
        Path minilm = dir.resolve("minilm.onnx");
        try (InputStream in = ModelStructureBench.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            Files.copy(in, minilm, StandardCopyOption.REPLACE_EXISTING);
        }
        long mib = Long.parseLong(System.getenv().getOrDefault("ANVIL_BENCH_MIB", "1024"));
        Path large = generate(dir.resolve("large.onnx"), mib * 1024 * 1024);
        System.out.printf("heap limit %d MiB%n", Runtime.getRuntime().maxMemory() / (1024 * 1024));
        OnnxModel.readStructure(SharedData.cnnMnist()); // class loading and JIT do not count below
        try {
            for (Path model : new Path[] {SharedData.cnnMnist(), minilm, large}) {
                measure(model);
            }
        } finally {
            Files.delete(minilm);
            Files.delete(large);
            Files.delete(dir);
        }
    }

    private static void measure(Path model) throws Exception {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();
        ModelStructure structure = OnnxModel.readStructure(model);
        long millis = (System.nanoTime() - start) / 1_000_000;
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        System.out.printf("%-20s %9.1f MiB file  %7.2f MiB allocated  %5d ms  %d nodes, %,d parameters, opsets %s%n",
                model.getFileName(), Files.size(model) / 1048576.0, allocated / 1048576.0, millis,
                structure.nodeCount(), structure.parameterCount(), structure.opsets());
    }

    /** A model with one float initializer of {@code bytes} bytes of zeros, left as a hole in the file. */
    private static Path generate(Path file, long bytes) throws Exception {
        TensorProto tensor = TensorProto.newBuilder().setName("weights").setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addDims(bytes / 4).build();
        long tensorSize = tensor.getSerializedSize() + lengthPrefixed(TensorProto.RAW_DATA_FIELD_NUMBER, bytes);
        GraphProto graph = GraphProto.newBuilder().setName("large").build();
        long graphSize = graph.getSerializedSize() + lengthPrefixed(GraphProto.INITIALIZER_FIELD_NUMBER, tensorSize);
        ModelProto model = ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).build();
        try (OutputStream stream = Files.newOutputStream(file)) {
            CodedOutputStream out = CodedOutputStream.newInstance(stream);
            model.writeTo(out);
            header(out, ModelProto.GRAPH_FIELD_NUMBER, graphSize);
            graph.writeTo(out);
            header(out, GraphProto.INITIALIZER_FIELD_NUMBER, tensorSize);
            tensor.writeTo(out);
            header(out, TensorProto.RAW_DATA_FIELD_NUMBER, bytes);
            out.flush();
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(raf.length() + bytes);
        }
        return file;
    }

    private static long lengthPrefixed(int field, long length) {
        return CodedOutputStream.computeTagSize(field) + CodedOutputStream.computeUInt64SizeNoTag(length) + length;
    }

    private static void header(CodedOutputStream out, int field, long length) throws Exception {
        out.writeTag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt64NoTag(length);
    }
}
