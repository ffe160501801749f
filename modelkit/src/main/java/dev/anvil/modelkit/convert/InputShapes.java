package dev.anvil.modelkit.convert;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Sizes for a model's free dimensions in convert's self-check, as {@code with.shapes} gives them: a whole
 * shape per input ({@code {"images": [1, 3, 640, 640]}}) or a size per symbolic dimension name
 * ({@code {"batch": 1, "height": 640}}). Values are checked against the model by {@link SelfCheckShapes}.
 *
 * @param byInput input name to its full shape
 * @param byDimension symbolic dimension name (ONNX {@code dim_param}) to its size
 */
public record InputShapes(Map<String, List<Long>> byInput, Map<String, Long> byDimension) {
    public InputShapes {
        byInput = Map.copyOf(new LinkedHashMap<>(Objects.requireNonNull(byInput, "byInput")));
        byDimension = Map.copyOf(new LinkedHashMap<>(Objects.requireNonNull(byDimension, "byDimension")));
        byInput.values().forEach(shape -> Objects.requireNonNull(shape, "shape"));
    }

    public static InputShapes none() {
        return new InputShapes(Map.of(), Map.of());
    }

    public boolean isEmpty() {
        return byInput.isEmpty() && byDimension.isEmpty();
    }
}
