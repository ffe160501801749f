package dev.anvil.modelkit.datasets;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The optional {@code dataset.json} entry of a dataset zip: how each input is fed when "first axis, batched"
 * does not fit the model. Absent, every array is batched on axis 0 and nothing is stateful, which is what every
 * dataset written before the manifest existed means.
 *
 * <pre>{@code
 * {
 *   "inputs": {"h0": {"batch_axis": 1}, "sr": {"batch_axis": null}},
 *   "state": {"h0": "hn"},             // or {"h0": {"output": "hn", "initial": "zeros"}}
 *   "sequence_length": 100             // optional: the state restarts every 100 samples
 * }
 * }</pre>
 *
 * <ul>
 *   <li>{@code inputs.<name>.batch_axis}: the axis of the <em>model's</em> input that the samples run along.
 *       The array is still stored sample-first ({@code [N, 2, 4]} for a model input {@code [2, B, 4]} with
 *       {@code batch_axis} 1), so it streams, shuffles and splits like any other; the feed moves the sample axis
 *       into place. {@code null} makes the input a constant: the array is stored once, exactly as the model takes
 *       it (any rank, a 0-d scalar included), and fed unchanged with every batch.</li>
 *   <li>{@code state.<input>}: the named model output of step t is fed as that input at step t+1. Samples are
 *       then steps, fed one at a time in order. {@code initial} is {@code "dataset"} (the default: the input's
 *       array gives the state at the first step of each sequence) or {@code "zeros"} (no array; zeros of the
 *       model's shape).</li>
 *   <li>{@code sequence_length}: with state, the dataset holds sequences of this many steps one after another
 *       and the state restarts at each; without it the whole dataset is one sequence.</li>
 * </ul>
 * Unknown keys are errors, so a typo never silently means "batched on axis 0".
 */
public record DatasetManifest(Map<String, OptionalInt> batchAxes, Map<String, State> state,
                              OptionalInt sequenceLength) {
    public static final String ENTRY = "dataset.json";
    public static final DatasetManifest NONE = new DatasetManifest(Map.of(), Map.of(), OptionalInt.empty());
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where a state input's value at the first step of a sequence comes from. */
    public enum Initial {
        DATASET("dataset"), ZEROS("zeros");

        private final String wireName;

        Initial(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }
    }

    /** A state input: the output it is fed back from and where its first value comes from. */
    public record State(String output, Initial initial) {}

    public DatasetManifest {
        batchAxes = Collections.unmodifiableMap(new LinkedHashMap<>(batchAxes));
        state = Collections.unmodifiableMap(new LinkedHashMap<>(state));
        batchAxes.forEach((name, axis) -> {
            if (axis.isPresent() && axis.getAsInt() < 0) {
                throw new DatasetFormatException(ENTRY + ": inputs." + name + ".batch_axis is " + axis.getAsInt()
                        + "; give an axis from 0 up, or null for an input fed unchanged with every batch");
            }
        });
        if (sequenceLength.isPresent() && sequenceLength.getAsInt() < 1) {
            throw new DatasetFormatException(ENTRY + ": sequence_length is " + sequenceLength.getAsInt()
                    + "; it must be at least 1 step");
        }
        if (sequenceLength.isPresent() && state.isEmpty()) {
            throw new DatasetFormatException(ENTRY + ": sequence_length is given but no state is declared;"
                    + " remove it, or declare \"state\": {\"<input>\": \"<output>\"}");
        }
    }

    public DatasetManifest withBatchAxis(String input, Integer axis) {
        Map<String, OptionalInt> axes = new LinkedHashMap<>(batchAxes);
        axes.put(input, axis == null ? OptionalInt.empty() : OptionalInt.of(axis));
        return new DatasetManifest(axes, state, sequenceLength);
    }

    public DatasetManifest withState(String input, String output, Initial initial) {
        Map<String, State> states = new LinkedHashMap<>(state);
        states.put(input, new State(output, initial));
        return new DatasetManifest(batchAxes, states, sequenceLength);
    }

    public DatasetManifest withSequenceLength(int steps) {
        return new DatasetManifest(batchAxes, state, OptionalInt.of(steps));
    }

    /** True for an input fed anew with each batch, false for one stored once (batch_axis null). */
    public boolean isBatched(String input) {
        OptionalInt axis = batchAxes.get(input);
        return axis == null || axis.isPresent();
    }

    /** The model axis the samples of {@code input} run along (0 unless declared); only for batched inputs. */
    public int batchAxis(String input) {
        OptionalInt axis = batchAxes.get(input);
        return axis == null ? 0 : axis.orElseThrow(() -> new IllegalStateException("input '" + input
                + "' is not batched"));
    }

    public boolean isStateful() {
        return !state.isEmpty();
    }

    /** True when nothing is declared: the dataset means what datasets meant before the manifest. */
    public boolean isDefault() {
        return batchAxes.values().stream().allMatch(axis -> axis.isPresent() && axis.getAsInt() == 0)
                && state.isEmpty() && sequenceLength.isEmpty();
    }

    /** Inputs that need an array in the zip: a zeros-initialised state has none. */
    public boolean needsArray(String input) {
        State s = state.get(input);
        return s == null || s.initial() == Initial.DATASET;
    }

    /** Checks the manifest against the zip's arrays (not yet the model: that is the feed's job). */
    void check(Map<String, NpyHeader> arrays) {
        for (Map.Entry<String, OptionalInt> entry : batchAxes.entrySet()) {
            String name = entry.getKey();
            NpyHeader header = arrays.get(name);
            if (header == null) {
                if (!needsArray(name)) {
                    continue; // zeros state: the axis is checked against the model
                }
                throw new DatasetFormatException(ENTRY + " declares input '" + name + "' but the dataset has no "
                        + name + Dataset.NPY_SUFFIX + "; it has " + arrays.keySet()
                        + "; remove the entry or add the array");
            }
            if (entry.getValue().isPresent()) {
                int axis = entry.getValue().getAsInt();
                int rank = header.shape().length;
                if (axis >= rank) {
                    throw new DatasetFormatException(ENTRY + ": inputs." + name + ".batch_axis is " + axis + " but "
                            + name + Dataset.NPY_SUFFIX + " has rank " + rank + " (" + header
                            + ", stored sample-first), so the model input has rank " + rank + " and the batch axis must be"
                            + " 0.." + (rank - 1) + "; store the array sample-first (np.moveaxis(a, " + axis
                            + ", 0)) or fix the axis");
                }
            }
        }
        state.forEach((input, s) -> {
            boolean present = arrays.containsKey(input);
            if (s.initial() == Initial.DATASET && !present) {
                throw new DatasetFormatException(ENTRY + ": state input '" + input + "' takes its initial value from"
                        + " the dataset, but there is no " + input + Dataset.NPY_SUFFIX + "; add the array or declare"
                        + " {\"output\": \"" + s.output() + "\", \"initial\": \"zeros\"}");
            }
            if (s.initial() == Initial.ZEROS && present) {
                throw new DatasetFormatException(ENTRY + ": state input '" + input + "' starts from zeros, but the"
                        + " dataset also has " + input + Dataset.NPY_SUFFIX + "; remove the array or set"
                        + " \"initial\": \"dataset\"");
            }
        });
    }

    public static DatasetManifest parse(byte[] json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new DatasetFormatException(ENTRY + " is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new DatasetFormatException(ENTRY + " cannot be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new DatasetFormatException(ENTRY + " must be a JSON object such as"
                    + " {\"inputs\": {\"h0\": {\"batch_axis\": 1}}}");
        }
        onlyKeys(root, "", Set.of("inputs", "state", "sequence_length"));
        Map<String, OptionalInt> axes = new LinkedHashMap<>();
        JsonNode inputs = root.path("inputs");
        if (!inputs.isMissingNode()) {
            requireObject(inputs, "inputs", "{\"<input>\": {\"batch_axis\": 1}}");
            for (Iterator<Map.Entry<String, JsonNode>> it = inputs.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> input = it.next();
                String where = "inputs." + input.getKey();
                Dataset.checkInputName(input.getKey());
                requireObject(input.getValue(), where, "{\"batch_axis\": 1} or {\"batch_axis\": null}");
                onlyKeys(input.getValue(), where + ".", Set.of("batch_axis"));
                JsonNode axis = input.getValue().get("batch_axis");
                if (axis == null) {
                    throw new DatasetFormatException(ENTRY + ": " + where + " has no batch_axis; give an axis"
                            + " (0, 1, ...) or null for an input fed unchanged with every batch");
                }
                if (axis.isNull()) {
                    axes.put(input.getKey(), OptionalInt.empty());
                } else if (axis.isIntegralNumber() && axis.canConvertToInt()) {
                    axes.put(input.getKey(), OptionalInt.of(axis.intValue()));
                } else {
                    throw new DatasetFormatException(ENTRY + ": " + where + ".batch_axis is " + axis
                            + "; give an integer axis (0, 1, ...) or null");
                }
            }
        }
        Map<String, State> states = new LinkedHashMap<>();
        JsonNode state = root.path("state");
        if (!state.isMissingNode()) {
            requireObject(state, "state", "{\"<input>\": \"<output>\"}");
            for (Iterator<Map.Entry<String, JsonNode>> it = state.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                states.put(entry.getKey(), state("state." + entry.getKey(), entry.getValue()));
            }
        }
        OptionalInt sequenceLength = OptionalInt.empty();
        JsonNode length = root.get("sequence_length");
        if (length != null) {
            if (!length.isIntegralNumber() || !length.canConvertToInt()) {
                throw new DatasetFormatException(ENTRY + ": sequence_length is " + length
                        + "; give the number of steps of each sequence, e.g. 100");
            }
            sequenceLength = OptionalInt.of(length.intValue());
        }
        return new DatasetManifest(axes, states, sequenceLength);
    }

    private static State state(String where, JsonNode value) {
        if (value.isTextual()) {
            return new State(value.textValue(), Initial.DATASET);
        }
        requireObject(value, where, "\"<output>\" or {\"output\": \"<output>\", \"initial\": \"zeros\"}");
        onlyKeys(value, where + ".", Set.of("output", "initial"));
        JsonNode output = value.get("output");
        if (output == null || !output.isTextual()) {
            throw new DatasetFormatException(ENTRY + ": " + where + ".output must name the model output fed back"
                    + " as this input, e.g. \"output\": \"hn\"");
        }
        JsonNode initial = value.get("initial");
        Initial chosen = Initial.DATASET;
        if (initial != null) {
            Optional<Initial> known = initial.isTextual() ? java.util.Arrays.stream(Initial.values())
                    .filter(i -> i.wireName().equals(initial.textValue())).findFirst() : Optional.empty();
            chosen = known.orElseThrow(() -> new DatasetFormatException(ENTRY + ": " + where + ".initial is "
                    + initial + "; expected \"dataset\" (the input's array) or \"zeros\""));
        }
        return new State(output.textValue(), chosen);
    }

    private static void requireObject(JsonNode node, String where, String example) {
        if (!node.isObject()) {
            throw new DatasetFormatException(ENTRY + ": " + where + " must be an object such as " + example
                    + ", got " + node);
        }
    }

    private static void onlyKeys(JsonNode node, String prefix, Set<String> allowed) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!allowed.contains(key)) {
                throw new DatasetFormatException(ENTRY + ": unknown key '" + prefix + key + "'; allowed here: "
                        + new java.util.TreeSet<>(allowed));
            }
        }
    }

    /** The manifest as written into the zip. */
    public byte[] toJson() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        if (!batchAxes.isEmpty()) {
            ObjectNode inputs = root.putObject("inputs");
            batchAxes.forEach((name, axis) -> {
                ObjectNode input = inputs.putObject(name);
                if (axis.isPresent()) {
                    input.put("batch_axis", axis.getAsInt());
                } else {
                    input.putNull("batch_axis");
                }
            });
        }
        if (!state.isEmpty()) {
            ObjectNode states = root.putObject("state");
            state.forEach((input, s) -> {
                if (s.initial() == Initial.DATASET) {
                    states.put(input, s.output());
                } else {
                    states.putObject(input).put("output", s.output()).put("initial", s.initial().wireName());
                }
            });
        }
        sequenceLength.ifPresent(steps -> root.put("sequence_length", steps));
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
