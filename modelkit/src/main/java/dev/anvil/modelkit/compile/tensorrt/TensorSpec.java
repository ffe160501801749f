package dev.anvil.modelkit.compile.tensorrt;

import java.util.List;

/**
 * One engine input or output as TensorRT reports it: its name, element type and shape (-1 for a dimension the
 * profile leaves open).
 */
public record TensorSpec(String name, String dataType, List<Long> shape) {
    public TensorSpec {
        shape = List.copyOf(shape);
    }
}
