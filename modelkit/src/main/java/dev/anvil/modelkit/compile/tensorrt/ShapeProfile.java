package dev.anvil.modelkit.compile.tensorrt;

import java.util.List;

/**
 * The shapes one engine input accepts: TensorRT builds for {@code opt} and runs any shape between {@code min} and
 * {@code max}, dimension by dimension. A static input has all three equal to its shape.
 */
public record ShapeProfile(String input, List<Long> min, List<Long> opt, List<Long> max) {
    public ShapeProfile {
        min = List.copyOf(min);
        opt = List.copyOf(opt);
        max = List.copyOf(max);
    }

    public static ShapeProfile fixed(String input, List<Long> shape) {
        return new ShapeProfile(input, shape, shape, shape);
    }

    /** Whether an input of {@code shape} may run on this profile. */
    public boolean admits(long[] shape) {
        if (shape.length != min.size()) {
            return false;
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < min.get(i) || shape[i] > max.get(i)) {
                return false;
            }
        }
        return true;
    }
}
