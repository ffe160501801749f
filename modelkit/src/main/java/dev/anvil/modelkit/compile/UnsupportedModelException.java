package dev.anvil.modelkit.compile;

import dev.anvil.modelkit.onnx.InvalidModelException;
import java.util.List;

/**
 * The model cannot be compiled for the target: raised before any conversion work, listing every node the
 * converter cannot take (op type and node name). Retrying will not help.
 */
public class UnsupportedModelException extends InvalidModelException {
    private final List<String> nodes;

    public UnsupportedModelException(String message, List<String> nodes) {
        super(message);
        this.nodes = List.copyOf(nodes);
    }

    /** The refused nodes, each as {@code OpType 'node name' (reason)}. */
    public List<String> nodes() {
        return nodes;
    }
}
