package dev.anvil.modelkit.train;

import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import java.util.ArrayList;
import java.util.List;

/**
 * Finishes a model Tribuo exported so the rest of the pipeline can use it as it is: the input takes the dataset
 * input's name and raw (unstandardised) features, since the standardisation learnt on the training set is a
 * {@code Sub}/{@code Div} in front; the output's columns are the classes in label order (Tribuo numbers labels its
 * own way); and Tribuo's provenance metadata, which holds the training time and host, is dropped so the same
 * inputs give the same bytes.
 */
final class ExportedModel {
    static final String PRODUCER = "anvil-train (Tribuo 4.3.2)";
    private static final String FEATURES = "anvil_features";
    private static final String CENTRED = "anvil_centred";
    private static final String SCORES = "anvil_tribuo_scores";

    private ExportedModel() {}

    /**
     * @param columns for classification, the Tribuo output column of each class in label order; null to keep
     */
    static ModelProto finish(ModelProto exported, String inputName, float[] mean, float[] scale, int[] columns) {
        ModelProto.Builder model = exported.toBuilder();
        GraphProto.Builder graph = model.getGraphBuilder();
        if (graph.getInputCount() != 1 || graph.getOutputCount() < 1) {
            throw new IllegalStateException("Tribuo exported a graph with " + graph.getInputCount() + " inputs and "
                    + graph.getOutputCount() + " outputs; expected one input");
        }
        String tribuoInput = graph.getInput(0).getName();
        String tribuoOutput = graph.getOutput(0).getName();
        boolean permute = columns != null && !isIdentity(columns);
        List<NodeProto> nodes = new ArrayList<>();
        for (NodeProto node : graph.getNodeList()) {
            NodeProto.Builder b = node.toBuilder();
            for (int i = 0; i < b.getInputCount(); i++) {
                if (b.getInput(i).equals(tribuoInput)) {
                    b.setInput(i, FEATURES);
                }
            }
            if (permute) {
                for (int i = 0; i < b.getOutputCount(); i++) {
                    if (b.getOutput(i).equals(tribuoOutput)) {
                        b.setOutput(i, SCORES);
                    }
                }
            }
            nodes.add(b.build());
        }
        List<NodeProto> front = new ArrayList<>();
        if (mean != null) {
            graph.addInitializer(Tensors.floats("anvil_mean", new long[] {mean.length}, mean));
            graph.addInitializer(Tensors.floats("anvil_scale", new long[] {scale.length}, scale));
            front.add(node("Sub", "anvil_standardise_sub", List.of(inputName, "anvil_mean"), CENTRED));
            front.add(node("Div", "anvil_standardise_div", List.of(CENTRED, "anvil_scale"), FEATURES));
        } else {
            front.add(node("Identity", "anvil_input", List.of(inputName), FEATURES));
        }
        if (permute) {
            long[] indices = new long[columns.length];
            for (int i = 0; i < columns.length; i++) {
                indices[i] = columns[i];
            }
            graph.addInitializer(Tensors.int64s("anvil_class_columns", new long[] {indices.length}, indices));
            nodes.add(node("Gather", "anvil_class_order", List.of(SCORES, "anvil_class_columns"), tribuoOutput).toBuilder()
                    .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT)
                            .setI(1))
                    .build());
        }
        front.addAll(nodes);
        graph.clearNode().addAllNode(front);
        graph.setInput(0, graph.getInput(0).toBuilder().setName(inputName));
        graph.setName("anvil_train");
        graph.clearDocString();
        model.clearMetadataProps();
        model.clearDocString();
        model.setProducerName(PRODUCER).clearProducerVersion();
        return model.build();
    }

    private static NodeProto node(String op, String name, List<String> inputs, String output) {
        return NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addOutput(output).build();
    }

    private static boolean isIdentity(int[] columns) {
        for (int i = 0; i < columns.length; i++) {
            if (columns[i] != i) {
                return false;
            }
        }
        return true;
    }
}
