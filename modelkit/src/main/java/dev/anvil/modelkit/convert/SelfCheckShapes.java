package dev.anvil.modelkit.convert;

import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProtoOrBuilder;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The concrete shapes of the synthetic batch convert's self-check feeds. A free dimension takes, in order:
 * <ol>
 *   <li>the size {@code with.shapes} gives the input's shape, or its dimension name;</li>
 *   <li>the size an earlier input's dimension of the same name took (inputs that share a name agree);</li>
 *   <li>by its name: {@code batch}/{@code N} → {@value #BATCH}; names with {@code height}/{@code width}
 *       → {@value #IMAGE}; names with {@code seq}, {@code token}, {@code len}, {@code time} →
 *       {@value #SEQUENCE};</li>
 *   <li>by its place: axis 0 → {@value #BATCH} (the batch axis); a free channel axis of a 4-D input →
 *       {@value #CHANNELS}; the spatial axes of a 4-D input (NCHW, or NHWC when the last axis is fixed at 1–4)
 *       → {@value #IMAGE}; axis 1 of a 2-D or 3-D input (tokens, sequence) → {@value #SEQUENCE}; anything
 *       else → {@value #OTHER}.</li>
 * </ol>
 * Never 2: a detector on a 2×2 image, or a kernel larger than the input, proves nothing.
 */
final class SelfCheckShapes {
    static final long BATCH = 1;
    static final long IMAGE = 224;
    static final long CHANNELS = 3;
    static final long SEQUENCE = 128;
    static final long OTHER = 16;
    static final String RULE = "free dimensions: batch " + BATCH + ", image height/width " + IMAGE + ", channels "
            + CHANNELS + ", sequence " + SEQUENCE + ", other " + OTHER + " (with.shapes overrides)";

    private SelfCheckShapes() {}

    /**
     * Shapes for every input ORT lists, in its order.
     *
     * @param declared each input's declared dims, -1 where free (ORT's view)
     * @param graph the model's main graph, for the free dimensions' names
     * @throws InvalidModelException when {@code given} names an input or dimension the model lacks, has the wrong
     *     rank, contradicts a fixed dimension or is not positive; the message names the input and says what fits
     */
    static Map<String, long[]> resolve(Map<String, long[]> declared, GraphProtoOrBuilder graph, InputShapes given) {
        Map<String, String[]> names = dimNames(graph, declared);
        check(declared, names, given);
        Map<String, Long> byName = new HashMap<>(given.byDimension());
        // a whole shape given for one input also sizes the dimensions it shares by name with others
        for (Map.Entry<String, List<Long>> e : given.byInput().entrySet()) {
            String[] dimNames = names.get(e.getKey());
            for (int axis = 0; axis < dimNames.length; axis++) {
                if (dimNames[axis] != null) {
                    byName.putIfAbsent(dimNames[axis], e.getValue().get(axis));
                }
            }
        }
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : declared.entrySet()) {
            String input = e.getKey();
            long[] shape = e.getValue().clone();
            List<Long> whole = given.byInput().get(input);
            String[] dimNames = names.get(input);
            for (int axis = 0; axis < shape.length; axis++) {
                if (shape[axis] >= 0) {
                    continue;
                }
                if (whole != null) {
                    shape[axis] = whole.get(axis);
                } else if (dimNames[axis] != null && byName.containsKey(dimNames[axis])) {
                    shape[axis] = byName.get(dimNames[axis]);
                } else {
                    shape[axis] = byDefault(dimNames[axis], axis, e.getValue());
                    if (dimNames[axis] != null) {
                        byName.put(dimNames[axis], shape[axis]);
                    }
                }
            }
            shapes.put(input, shape);
        }
        return shapes;
    }

    private static long byDefault(String name, int axis, long[] declared) {
        if (name != null) {
            String n = name.toLowerCase(Locale.ROOT);
            if (n.contains("batch") || n.equals("n") || n.equals("b")) {
                return BATCH;
            }
            if (n.contains("height") || n.contains("width")) {
                return IMAGE;
            }
            if (n.contains("seq") || n.contains("token") || n.contains("len") || n.contains("time")) {
                return SEQUENCE;
            }
        }
        if (axis == 0) {
            return BATCH;
        }
        if (declared.length == 4) {
            boolean nhwc = declared[3] >= 1 && declared[3] <= 4 && declared[1] < 0;
            if (nhwc) {
                return IMAGE; // axes 1 and 2; axis 3 is fixed
            }
            return axis == 1 ? CHANNELS : IMAGE;
        }
        if ((declared.length == 2 || declared.length == 3) && axis == 1) {
            return SEQUENCE;
        }
        return OTHER;
    }

    private static void check(Map<String, long[]> declared, Map<String, String[]> names, InputShapes given) {
        for (Map.Entry<String, List<Long>> e : given.byInput().entrySet()) {
            String input = e.getKey();
            long[] model = declared.get(input);
            if (model == null) {
                throw new InvalidModelException("with.shapes names input '" + input + "', which the model does not have;"
                        + " its inputs are " + declared.keySet() + " (or give sizes by dimension name: "
                        + freeNames(names) + ")");
            }
            List<Long> shape = e.getValue();
            if (shape.size() != model.length) {
                throw new InvalidModelException("with.shapes." + input + " has " + shape.size() + " dimensions but input '"
                        + input + "' has rank " + model.length + " " + describe(model, names.get(input)));
            }
            for (int axis = 0; axis < model.length; axis++) {
                Long size = shape.get(axis);
                if (size == null || size < 1) {
                    throw new InvalidModelException("with.shapes." + input + " gives " + size + " for axis " + axis
                            + " of input '" + input + "'; sizes must be whole numbers of at least 1");
                }
                if (model[axis] >= 0 && model[axis] != size) {
                    throw new InvalidModelException("with.shapes." + input + " gives " + size + " for axis " + axis
                            + " but input '" + input + "' fixes it at " + model[axis] + ": the input's shape is "
                            + describe(model, names.get(input)));
                }
            }
        }
        TreeSet<String> free = freeNames(names);
        for (Map.Entry<String, Long> e : given.byDimension().entrySet()) {
            if (!free.contains(e.getKey())) {
                throw new InvalidModelException("with.shapes names dimension '" + e.getKey() + "', which no input has"
                        + (declared.containsKey(e.getKey()) ? " (to size input '" + e.getKey() + "' give its whole shape"
                                + " as a list)" : "") + "; the model's named free dimensions are " + free
                        + " and its inputs " + declared.keySet());
            }
            if (e.getValue() < 1) {
                throw new InvalidModelException("with.shapes." + e.getKey() + " is " + e.getValue() + " for dimension '"
                        + e.getKey() + "' of input " + inputsWith(names, e.getKey())
                        + "; sizes must be whole numbers of at least 1");
            }
        }
    }

    private static Map<String, String[]> dimNames(GraphProtoOrBuilder graph, Map<String, long[]> declared) {
        Map<String, ValueInfoProto> inputs = new HashMap<>();
        graph.getInputList().forEach(v -> inputs.put(v.getName(), v));
        Map<String, String[]> names = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : declared.entrySet()) {
            String[] dims = new String[e.getValue().length];
            ValueInfoProto v = inputs.get(e.getKey());
            if (v != null && v.getType().hasTensorType() && v.getType().getTensorType().hasShape()) {
                List<TensorShapeProto.Dimension> ds = v.getType().getTensorType().getShape().getDimList();
                for (int i = 0; i < Math.min(ds.size(), dims.length); i++) {
                    if (ds.get(i).hasDimParam() && !ds.get(i).getDimParam().isEmpty()) {
                        dims[i] = ds.get(i).getDimParam();
                    }
                }
            }
            names.put(e.getKey(), dims);
        }
        return names;
    }

    private static TreeSet<String> freeNames(Map<String, String[]> names) {
        TreeSet<String> free = new TreeSet<>();
        names.values().forEach(dims -> Arrays.stream(dims).filter(d -> d != null).forEach(free::add));
        return free;
    }

    private static String inputsWith(Map<String, String[]> names, String dim) {
        List<String> holders = new ArrayList<>();
        names.forEach((input, dims) -> {
            if (Arrays.asList(dims).contains(dim)) {
                holders.add("'" + input + "'");
            }
        });
        return String.join(", ", holders);
    }

    /** A shape as the model declares it: fixed sizes, and names (or ?) where free. */
    static String describe(long[] shape, String[] names) {
        List<String> dims = new ArrayList<>();
        for (int i = 0; i < shape.length; i++) {
            dims.add(shape[i] >= 0 ? Long.toString(shape[i]) : names != null && names[i] != null ? names[i] : "?");
        }
        return "[" + String.join(", ", dims) + "]";
    }
}
