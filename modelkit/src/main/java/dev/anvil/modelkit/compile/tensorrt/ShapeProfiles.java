package dev.anvil.modelkit.compile.tensorrt;

import dev.anvil.modelkit.onnx.ModelSignature;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The optimisation profile of an engine, from the model's inputs and the shapes a spec declares
 * ({@code with.shapes}). A static input needs nothing declared; an input with a symbolic dimension cannot be built
 * without its range and is refused, naming the input and how to declare it. Declared shapes must match the model's
 * rank and its fixed dimensions.
 */
public final class ShapeProfiles {
    private ShapeProfiles() {}

    /**
     * @param declared input name → a shape ({@code [1, 1, 28, 28]}: min = opt = max) or
     *                 {@code {min: [...], opt: [...], max: [...]}}; may be empty
     * @return one profile per model input, in the model's input order
     * @throws IllegalArgumentException naming the input and what is wrong
     */
    public static List<ShapeProfile> derive(ModelSignature signature, Map<String, Object> declared) {
        Set<String> names = new LinkedHashSet<>();
        signature.inputs().forEach(t -> names.add(t.name()));
        for (String key : declared.keySet()) {
            if (!names.contains(key)) {
                throw new IllegalArgumentException("with.shapes names input '" + key + "', which the model does not"
                        + " have; its inputs are " + names);
            }
        }
        List<ShapeProfile> profiles = new ArrayList<>();
        for (ModelSignature.Tensor input : signature.inputs()) {
            Object given = declared.get(input.name());
            if (given == null) {
                profiles.add(undeclared(input));
            } else {
                profiles.add(declaredProfile(input, given));
            }
        }
        return List.copyOf(profiles);
    }

    private static ShapeProfile undeclared(ModelSignature.Tensor input) {
        if (input.shape() == null || input.shape().contains("?")) {
            throw new IllegalArgumentException("input '" + input.name() + "' has "
                    + (input.shape() == null ? "no shape" : "dynamic dimensions " + input.shape())
                    + " and TensorRT cannot build for it without an optimisation profile: declare with.shapes."
                    + input.name() + " as one shape (e.g. " + example(input, "1") + ") or as {min: "
                    + example(input, "1") + ", opt: " + example(input, "8") + ", max: " + example(input, "32") + "}");
        }
        return ShapeProfile.fixed(input.name(), input.shape().stream().map(Long::parseLong).toList());
    }

    private static ShapeProfile declaredProfile(ModelSignature.Tensor input, Object given) {
        String where = "with.shapes." + input.name();
        if (given instanceof List<?> shape) {
            List<Long> s = dims(where, shape, input);
            return ShapeProfile.fixed(input.name(), s);
        }
        if (given instanceof Map<?, ?> m) {
            for (Object k : m.keySet()) {
                if (!List.of("min", "opt", "max").contains(String.valueOf(k))) {
                    throw new IllegalArgumentException(where + " has key '" + k + "'; a profile has min, opt and max");
                }
            }
            if (!(m.get("min") instanceof List<?> min) || !(m.get("opt") instanceof List<?> opt)
                    || !(m.get("max") instanceof List<?> max)) {
                throw new IllegalArgumentException(where + " needs min, opt and max, each a shape like "
                        + example(input, "1"));
            }
            List<Long> lo = dims(where + ".min", min, input);
            List<Long> mid = dims(where + ".opt", opt, input);
            List<Long> hi = dims(where + ".max", max, input);
            for (int i = 0; i < lo.size(); i++) {
                if (!(lo.get(i) <= mid.get(i) && mid.get(i) <= hi.get(i))) {
                    throw new IllegalArgumentException(where + ": dimension " + i + " must satisfy min ≤ opt ≤ max, got "
                            + lo.get(i) + ", " + mid.get(i) + ", " + hi.get(i));
                }
            }
            return new ShapeProfile(input.name(), lo, mid, hi);
        }
        throw new IllegalArgumentException(where + " must be a shape (list of integers) or {min, opt, max}, got "
                + given);
    }

    private static List<Long> dims(String where, List<?> shape, ModelSignature.Tensor input) {
        List<String> model = input.shape();
        if (model != null && shape.size() != model.size()) {
            throw new IllegalArgumentException(where + " has rank " + shape.size() + "; input '" + input.name()
                    + "' is " + model + " (rank " + model.size() + ")");
        }
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < shape.size(); i++) {
            if (!(shape.get(i) instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
                    || n.longValue() < 1) {
                throw new IllegalArgumentException(where + "[" + i + "] must be a positive integer, got "
                        + shape.get(i));
            }
            if (model != null && !model.get(i).equals("?") && Long.parseLong(model.get(i)) != n.longValue()) {
                throw new IllegalArgumentException(where + "[" + i + "] is " + n.longValue() + " but input '"
                        + input.name() + "' fixes that dimension at " + model.get(i) + " " + model);
            }
            out.add(n.longValue());
        }
        return out;
    }

    private static String example(ModelSignature.Tensor input, String forDynamic) {
        if (input.shape() == null) {
            return "[" + forDynamic + ", ...]";
        }
        return "[" + String.join(", ", input.shape().stream().map(d -> d.equals("?") ? forDynamic : d).toList()) + "]";
    }
}
