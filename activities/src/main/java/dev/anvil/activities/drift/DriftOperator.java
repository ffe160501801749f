package dev.anvil.activities.drift;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.DatasetStore;
import dev.anvil.db.DatasetVersion;
import dev.anvil.db.DriftReport;
import dev.anvil.db.DriftWindow;
import dev.anvil.db.DriftWindowStore;
import dev.anvil.db.Endpoint;
import dev.anvil.db.EndpointStore;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.drift.DriftAnalysis;
import dev.anvil.modelkit.drift.DriftThresholds;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code drift}: compares the live traffic the gateways sampled of an endpoint version
 * ({@link DriftWindowStore}, every serving process's window merged) with a registered reference dataset, feature
 * by feature (PSI over the reference's quantile bins, two-sample KS) and on the predicted classes (chi-square and
 * PSI against the reference's label shares), and records the verdict through {@link DriftEvents}. Outputs
 * {@code report}, {@code drifted} (null with a reason when there is too little traffic to judge) and
 * {@code moved}, the features that moved. A reference whose input does not match the sampled one is refused
 * before anything is recorded.
 */
public final class DriftOperator implements Operator {
    static final Set<String> KEYS = Set.of("endpoint", "version", "reference", "psi", "p_value", "min_samples", "bins");
    /** Reference rows read at most: enough for stable quantiles and KS, bounded in memory. */
    static final int MAX_REFERENCE_ROWS = 20_000;
    private static final Pattern REFERENCE = Pattern.compile("(?:dataset:)?([a-z0-9][a-z0-9_-]{0,62})(?:@(\\d+))?");

    private final ArtifactIO artifacts;
    private final EndpointStore endpoints;
    private final DatasetStore datasets;
    private final DriftWindowStore windows;
    private final DriftEvents events;
    private final ObjectMapper json;

    public DriftOperator(ArtifactIO artifacts, EndpointStore endpoints, DatasetStore datasets, DriftWindowStore windows,
                         DriftEvents events) {
        this.artifacts = artifacts;
        this.endpoints = endpoints;
        this.datasets = datasets;
        this.windows = windows;
        this.events = events;
        this.json = artifacts.json();
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.DRIFT;
    }

    /** The merged live window: rows from every serving process, their feature names and class counts. */
    record Live(String inputName, List<String> features, List<float[]> rows, long seen, long[] classes) {
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        Set<String> unknown = new TreeSet<>(with.keySet());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            throw new InvalidTaskInputException("drift does not take with." + String.join(", with.", unknown)
                    + "; it takes " + new TreeSet<>(KEYS));
        }
        String endpointName = text(with, "endpoint");
        Endpoint endpoint = endpoints.find(endpointName).orElseThrow(() -> new InvalidTaskInputException(
                "drift: no endpoint named '" + endpointName + "' (with.endpoint); GET /api/endpoints lists them"));
        int version = with.get("version") == null ? endpoint.stableVersion() : integer(with, "version");
        DatasetVersion reference = reference(text(with, "reference"));
        DriftThresholds thresholds;
        try {
            thresholds = new DriftThresholds(number(with, "psi", 0.2), number(with, "p_value", 0.01),
                    with.get("min_samples") == null ? 100 : integer(with, "min_samples"),
                    with.get("bins") == null ? 10 : integer(with, "bins"));
        } catch (IllegalArgumentException e) {
            throw new InvalidTaskInputException("drift: " + e.getMessage());
        }
        String referenceName = reference.dataset() + "@" + reference.version();
        String endpointLabel = "endpoint '" + endpointName + "' version " + version;

        Live live = live(endpointName, version);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("endpoint", endpointName);
        report.put("version", version);
        report.put("reference", referenceName);
        report.put("thresholds", Map.of("psi", thresholds.psi(), "p_value", thresholds.pValue(),
                "min_samples", thresholds.minSamples(), "bins", thresholds.bins()));
        report.put("live_rows", live == null ? 0 : live.rows().size());
        report.put("live_seen", live == null ? 0 : live.seen());
        if (live == null || live.rows().size() < thresholds.minSamples()) {
            String why = live == null ? endpointLabel + " has no sampled traffic yet (the gateway samples while it"
                    + " serves; check that ANVIL_GATEWAY_DRIFT_SAMPLE_SIZE is not 0)"
                    : "only " + live.rows().size() + " live rows sampled of " + endpointLabel + "; with.min_samples is "
                    + thresholds.minSamples();
            report.put("drifted", null);
            report.put("reason", why);
            return outputs(report, null, List.of());
        }

        context.heartbeat("reading the reference " + referenceName);
        ArtifactRef ref = artifacts.resolve(name(), Map.of("reference", "dataset:" + referenceName), "reference");
        artifacts.used(context, ref, "reference");
        Path file = artifacts.fetch(ref, ".zip");
        double[][] referenceColumns;
        long[] referenceClasses;
        try (DatasetReader reader = DatasetReader.open(file)) {
            String input = referenceInput(reader, live, referenceName, endpointLabel);
            NpyArray values = reader.readAll().inputs().get(input);
            referenceColumns = columns(values, live.features().size());
            referenceClasses = reader.hasLabels() ? classCounts(reader.labels().orElseThrow()) : null;
        } catch (DatasetFormatException e) {
            throw new InvalidTaskInputException("drift: reference " + referenceName + " cannot be read: " + e.getMessage(), e);
        } finally {
            Files.deleteIfExists(file);
        }

        double[][] liveColumns = new double[live.features().size()][live.rows().size()];
        for (int r = 0; r < live.rows().size(); r++) {
            float[] row = live.rows().get(r);
            for (int f = 0; f < row.length; f++) {
                liveColumns[f][r] = row[f];
            }
        }
        context.heartbeat("comparing " + live.features().size() + " features");
        List<DriftAnalysis.FeatureDrift> features = DriftAnalysis.features(live.features(), referenceColumns,
                liveColumns, thresholds);
        List<Map<String, Object>> perFeature = new ArrayList<>();
        List<String> moved = new ArrayList<>();
        for (DriftAnalysis.FeatureDrift f : features) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", f.name());
            m.put("psi", round(f.psi()));
            m.put("ks", round(f.ks()));
            m.put("ks_p_value", round(f.ksPValue()));
            m.put("drifted", f.drifted());
            m.put("reference_bins", f.referenceCounts());
            m.put("live_bins", f.liveCounts());
            perFeature.add(m);
            if (f.drifted()) {
                moved.add(f.name());
            }
        }
        report.put("features", perFeature);
        boolean classesDrifted = false;
        if (referenceClasses == null || live.classes().length == 0) {
            report.put("classes", null);
            report.put("classes_reason", referenceClasses == null ? "the reference has no labels to compare the"
                    + " predicted classes with" : "the endpoint's first output gave no class per row");
        } else {
            DriftAnalysis.ClassDrift c = DriftAnalysis.classes(referenceClasses, live.classes(), thresholds);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("psi", round(c.psi()));
            m.put("chi_square", round(c.chiSquare()));
            m.put("degrees_of_freedom", c.degreesOfFreedom());
            m.put("p_value", round(c.pValue()));
            m.put("drifted", c.drifted());
            m.put("reference_counts", c.referenceCounts());
            m.put("live_counts", c.liveCounts());
            report.put("classes", m);
            classesDrifted = c.drifted();
        }
        boolean drifted = !moved.isEmpty() || classesDrifted;
        report.put("drifted", drifted);
        report.put("moved", moved);
        DriftReport stored = events.record(endpointName, version, reference.dataset(), reference.version(), drifted,
                moved, json.writeValueAsString(report), context.runId(), context.taskId(), "run:" + context.runId());
        return outputs(report, stored.id(), moved);
    }

    private static Map<String, Object> outputs(Map<String, Object> report, Long id, List<String> moved) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (id != null) {
            report.put("report_id", id);
        }
        out.put("report", report);
        out.put("drifted", report.get("drifted"));
        out.put("moved", moved);
        return out;
    }

    private DatasetVersion reference(String text) {
        Matcher m = REFERENCE.matcher(text.trim());
        if (!m.matches()) {
            throw new InvalidTaskInputException("drift: with.reference '" + text + "' is not a dataset name; write"
                    + " <name> or <name>@<version>, e.g. transactions@3");
        }
        String name = m.group(1);
        if (m.group(2) != null) {
            int v = Integer.parseInt(m.group(2));
            return datasets.find(name, v).orElseThrow(() -> new InvalidTaskInputException("drift: dataset '" + name
                    + "' has no version " + v + " (with.reference); GET /api/datasets/" + name + " lists its versions"));
        }
        return datasets.latest(name).orElseThrow(() -> new InvalidTaskInputException("drift: no dataset named '"
                + name + "' (with.reference); register one with POST /api/datasets"));
    }

    Live live(String endpoint, int version) throws IOException {
        List<DriftWindow> rows = windows.list(endpoint, version);
        if (rows.isEmpty()) {
            return null;
        }
        DriftWindow first = rows.get(0);
        List<String> features = new ArrayList<>();
        json.readTree(first.featuresJson()).forEach(n -> features.add(n.asText()));
        List<float[]> sample = new ArrayList<>();
        long seen = 0;
        long[] classes = new long[0];
        for (DriftWindow w : rows) {
            if (!w.inputName().equals(first.inputName())) {
                continue; // a process that sampled another input (a model with another signature): not comparable
            }
            seen += w.seen();
            for (JsonNode row : json.readTree(w.sampleJson())) {
                if (row.size() != features.size()) {
                    continue;
                }
                float[] values = new float[row.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) row.get(i).asDouble();
                }
                sample.add(values);
            }
            if (w.classCounts().size() > classes.length) {
                classes = Arrays.copyOf(classes, w.classCounts().size());
            }
            for (int c = 0; c < w.classCounts().size(); c++) {
                classes[c] += w.classCounts().get(c);
            }
        }
        return new Live(first.inputName(), features, sample, seen, classes);
    }

    /**
     * The reference's input that matches the sampled one: the same name, or its only input. Its per-sample element
     * count must be the live feature count.
     */
    static String referenceInput(DatasetReader reader, Live live, String referenceName, String endpointLabel) {
        List<String> inputs = reader.inputNames();
        String input = inputs.contains(live.inputName()) ? live.inputName() : inputs.size() == 1 ? inputs.get(0) : null;
        if (input == null) {
            throw new InvalidTaskInputException("drift: reference " + referenceName + " has inputs " + inputs
                    + " but " + endpointLabel + " samples input '" + live.inputName() + "'; register a reference with"
                    + " an input named '" + live.inputName() + "'");
        }
        long[] shape = reader.shape(input);
        long perSample = 1;
        for (int i = 1; i < shape.length; i++) {
            perSample *= shape[i];
        }
        if (perSample != live.features().size()) {
            throw new InvalidTaskInputException("drift: reference " + referenceName + " input '" + input + "' has "
                    + perSample + " features per sample (shape " + Arrays.toString(shape) + ") but " + endpointLabel
                    + " input '" + live.inputName() + "' has " + live.features().size() + " ([N, "
                    + live.features().size() + "]); the reference must describe the endpoint's input");
        }
        return input;
    }

    private static double[][] columns(NpyArray values, int width) {
        long samples = values.shape()[0];
        int rows = (int) Math.min(samples, MAX_REFERENCE_ROWS);
        double[][] columns = new double[width][rows];
        for (int r = 0; r < rows; r++) {
            for (int f = 0; f < width; f++) {
                columns[f][r] = values.getDouble((long) r * width + f);
            }
        }
        return columns;
    }

    private static long[] classCounts(NpyArray labels) {
        long n = labels.elementCount();
        long[] counts = new long[0];
        for (long i = 0; i < n; i++) {
            long c = (long) labels.getDouble(i);
            if (c < 0 || c >= 1024) {
                return null; // not class indices (a regression target): no class comparison
            }
            if (c >= counts.length) {
                counts = Arrays.copyOf(counts, (int) c + 1);
            }
            counts[(int) c]++;
        }
        return counts;
    }

    private static String text(Map<String, Object> with, String key) {
        Object v = with.get(key);
        if (!(v instanceof String s) || s.isBlank()) {
            throw new InvalidTaskInputException("drift needs with." + key + " as a string, got " + v);
        }
        return s;
    }

    private static int integer(Map<String, Object> with, String key) {
        Object v = with.get(key);
        try {
            if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
                return n.intValue();
            }
            if (v instanceof String s) {
                return Integer.parseInt(s.trim());
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new InvalidTaskInputException("drift: with." + key + " must be a whole number, got " + v);
    }

    private static double number(Map<String, Object> with, String key, double fallback) {
        Object v = with.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            if (v instanceof Number n) {
                return n.doubleValue();
            }
            if (v instanceof String s) {
                return Double.parseDouble(s.trim());
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new InvalidTaskInputException("drift: with." + key + " must be a number, got " + v);
    }

    private static double round(double v) {
        return Math.round(v * 1e6) / 1e6;
    }
}
