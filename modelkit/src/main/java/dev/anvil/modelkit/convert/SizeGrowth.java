package dev.anvil.modelkit.convert;

import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Follows the model's size through the conversion's stages so that a result larger than its source can say
 * which stage made it so and why: an opset raise adds nodes (e.g. Split's sizes become an input), an ORT
 * optimisation can store weights in other layouts or add its own nodes, fp16 adds Cast nodes (which outweigh
 * the halved weights of a small model).
 */
final class SizeGrowth {
    /** Growth below this, with no node or weight added, is ORT's saved shapes and metadata: a note, not a warning. */
    static final long NOISE_BYTES = 4096;

    private record Stage(String name, long bytes, int nodes, long weightBytes, int valueInfos, String why) {}

    private final List<Stage> stages = new ArrayList<>();

    SizeGrowth(OnnxModel source) {
        stages.add(measure("source", source, null));
    }

    /** Records the model as it stands after {@code stage}; {@code why} explains growth at this stage, if any. */
    void after(String stage, OnnxModel model, String why) {
        stages.add(measure(stage, model, why));
    }

    /**
     * Whether the growth is worth a warning: a stage added nodes or weight bytes, or the file grew by more than
     * {@value #NOISE_BYTES} bytes.
     */
    boolean material(long sourceFileBytes, long resultFileBytes) {
        if (resultFileBytes - sourceFileBytes > NOISE_BYTES) {
            return true;
        }
        Stage first = stages.get(0);
        Stage last = stages.get(stages.size() - 1);
        return resultFileBytes > sourceFileBytes && (last.nodes > first.nodes || last.weightBytes > first.weightBytes);
    }

    /** Both sizes and each stage that grew the model, when the file grew. */
    Optional<String> describe(long sourceFileBytes, long resultFileBytes) {
        if (resultFileBytes <= sourceFileBytes) {
            return Optional.empty();
        }
        List<String> reasons = new ArrayList<>();
        for (int i = 1; i < stages.size(); i++) {
            Stage before = stages.get(i - 1);
            Stage now = stages.get(i);
            if (now.bytes <= before.bytes) {
                continue;
            }
            String what = now.name + " +" + (now.bytes - before.bytes) + " bytes (nodes " + before.nodes + " → " + now.nodes
                    + ", weights " + before.weightBytes + " → " + now.weightBytes + " bytes"
                    + (now.valueInfos > before.valueInfos ? ", " + (now.valueInfos - before.valueInfos)
                            + " inferred tensor shapes saved" : "") + ")";
            boolean structural = now.nodes > before.nodes || now.weightBytes > before.weightBytes;
            reasons.add(now.why == null || !structural ? what : what + ": " + now.why);
        }
        long grown = resultFileBytes - sourceFileBytes;
        long byStages = stages.get(stages.size() - 1).bytes - stages.get(0).bytes;
        if (reasons.isEmpty()) {
            reasons.add("no stage grew the graph; the difference is the anvil.convert metadata entry and re-serialisation");
        } else if (grown > byStages) {
            reasons.add("+" + (grown - Math.max(0, byStages)) + " bytes of the anvil.convert metadata entry and"
                    + " re-serialisation");
        }
        return Optional.of(String.format(java.util.Locale.ROOT,
                "the converted model is larger than the original: %d bytes against %d (+%d, +%.1f%%); %s",
                resultFileBytes, sourceFileBytes, grown, 100.0 * grown / Math.max(1, sourceFileBytes),
                String.join("; ", reasons)));
    }

    private static Stage measure(String name, OnnxModel model, String why) {
        long weights = 0;
        for (TensorProto t : model.graph().proto().getInitializerList()) {
            weights += t.getSerializedSize();
        }
        return new Stage(name, model.build().getSerializedSize(), model.graph().proto().getNodeCount(), weights,
                model.graph().proto().getValueInfoCount(), why);
    }
}
