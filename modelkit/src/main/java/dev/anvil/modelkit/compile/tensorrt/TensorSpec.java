package dev.anvil.modelkit.compile.tensorrt;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * One engine input or output as TensorRT reports it: its name, element type and shape (-1 for a dimension the
 * profile leaves open).
 */
public record TensorSpec(@JsonProperty("name") String name, @JsonProperty("data_type") String dataType,
        @JsonProperty("shape") List<Long> shape) {
    public TensorSpec {
        shape = List.copyOf(shape);
    }
}
