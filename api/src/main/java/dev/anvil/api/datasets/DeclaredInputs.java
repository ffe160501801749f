package dev.anvil.api.datasets;

import dev.anvil.api.problem.ProblemException;
import dev.anvil.modelkit.onnx.ModelSignature;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What a dataset must hold, checked when it is registered rather than when a pipeline first feeds it: the
 * inputs its uploader declared ({@code name:dtype[d1,d2]}, one sample's shape) and, when a model is named,
 * the model's inputs (names, dtypes and the fixed dimensions after the batch axis).
 */
final class DeclaredInputs {
    private static final Pattern DECLARATION =
            Pattern.compile("^\\s*([^:\\s]+)\\s*:\\s*([a-z0-9]+)\\s*\\[\\s*([0-9?,\\s]*)\\]\\s*$");

    /** One sample's dtype and shape; a null dimension matches any size. */
    record Spec(String dtype, List<Long> shape) {
        @Override
        public String toString() {
            return dtype + shape.stream().map(d -> d == null ? "?" : d.toString())
                    .collect(Collectors.joining(",", "[", "]"));
        }

        boolean accepts(Spec actual) {
            if (!dtype.equals(actual.dtype) || shape.size() != actual.shape.size()) {
                return false;
            }
            for (int i = 0; i < shape.size(); i++) {
                if (shape.get(i) != null && !shape.get(i).equals(actual.shape.get(i))) {
                    return false;
                }
            }
            return true;
        }
    }

    private DeclaredInputs() {}

    static Map<String, Spec> parse(List<String> declarations) {
        Map<String, Spec> specs = new LinkedHashMap<>();
        for (String text : declarations == null ? List.<String>of() : declarations) {
            Matcher m = DECLARATION.matcher(text);
            if (!m.matches()) {
                throw ProblemException.badRequest("declare", "declare '" + text + "' must be name:dtype[d1,d2,...],"
                        + " one sample's shape, e.g. input_image:float32[1,28,28] (a dimension may be ?)");
            }
            List<Long> shape = new ArrayList<>();
            for (String dim : m.group(3).split(",")) {
                String d = dim.strip();
                if (d.isEmpty() && m.group(3).isBlank()) {
                    break; // [] : a scalar per sample
                }
                if (d.equals("?")) {
                    shape.add(null);
                } else if (d.matches("\\d{1,12}")) {
                    shape.add(Long.parseLong(d));
                } else {
                    throw ProblemException.badRequest("declare", "declare '" + text + "': dimension '" + d
                            + "' must be a number or ?");
                }
            }
            if (specs.put(m.group(1), new Spec(m.group(2).toLowerCase(Locale.ROOT), shape)) != null) {
                throw ProblemException.badRequest("declare", "input '" + m.group(1) + "' is declared twice");
            }
        }
        return specs;
    }

    /** 422 naming the first input whose declaration the dataset does not meet. */
    static void check(Map<String, Spec> declared, Map<String, Spec> actual) {
        if (declared.isEmpty()) {
            return;
        }
        for (Map.Entry<String, Spec> d : declared.entrySet()) {
            Spec got = actual.get(d.getKey());
            if (got == null) {
                throw ProblemException.unprocessable("declare", "input '" + d.getKey() + "' is declared but the dataset"
                        + " has no such array; it holds " + describe(actual) + ". Declare the inputs it holds, or"
                        + " import it under that name (?input=" + d.getKey() + ")");
            }
            if (!d.getValue().accepts(got)) {
                throw ProblemException.unprocessable("declare", "input '" + d.getKey() + "' is " + got
                        + " per sample, but " + d.getValue() + " is declared; fix the declaration or import the data in"
                        + " the declared shape (for images: width, height, color, layout)");
            }
        }
        for (String name : actual.keySet()) {
            if (!declared.containsKey(name)) {
                throw ProblemException.unprocessable("declare", "the dataset holds input '" + name + "' " + actual.get(name)
                        + ", which is not declared; declare every input (declare=" + name + ":" + actual.get(name) + ")");
            }
        }
    }

    /** 422 naming the first model input the dataset cannot feed. */
    static void checkModel(String sha256, ModelSignature model, Map<String, Spec> actual) {
        for (ModelSignature.Tensor input : model.inputs()) {
            Spec got = actual.get(input.name());
            if (got == null) {
                throw ProblemException.unprocessable("model", "model " + sha256 + " has input '" + input.name()
                        + "' but the dataset has no such array; it holds " + describe(actual)
                        + ". Import it under the model's input name (?input=" + input.name() + ")");
            }
            String where = "input '" + input.name() + "' of model " + sha256 + " is " + input;
            if (!input.elementType().equals(got.dtype())) {
                throw ProblemException.unprocessable("model", where + " but the dataset's array is " + got
                        + " per sample; import it as " + input.elementType());
            }
            if (input.shape() != null) {
                List<String> sample = input.shape().isEmpty() ? List.of() : input.shape().subList(1, input.shape().size());
                boolean fits = sample.size() == got.shape().size();
                for (int i = 0; fits && i < sample.size(); i++) {
                    fits = sample.get(i).equals("?") || sample.get(i).equals(String.valueOf(got.shape().get(i)));
                }
                if (!fits) {
                    throw ProblemException.unprocessable("model", where + " (the first axis is the batch), but the"
                            + " dataset's array is " + got + " per sample; import it as " + input.elementType()
                            + "[" + String.join(",", sample) + "]");
                }
            }
        }
        for (String name : actual.keySet()) {
            if (model.inputs().stream().noneMatch(t -> t.name().equals(name))) {
                throw ProblemException.unprocessable("model", "the dataset's array '" + name + "' is not an input of"
                        + " model " + sha256 + ", whose inputs are " + model.inputs().stream()
                        .map(ModelSignature.Tensor::name).toList() + "; name the arrays as the model's inputs");
            }
        }
    }

    static Spec spec(String dtype, long[] shape) {
        List<Long> sample = new ArrayList<>();
        Arrays.stream(shape).skip(1).forEach(sample::add);
        return new Spec(dtype, sample);
    }

    private static String describe(Map<String, Spec> actual) {
        return actual.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", ", "[", "]"));
    }
}
