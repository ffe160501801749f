package dev.anvil.activities.gate;

import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.modelkit.gate.GatePolicy;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code gate}: checks a validation report against {@code require} ({@link GatePolicy}). The gate
 * report (every rule with value, threshold and result) is published either way, so reviewers see it;
 * a failed gate then fails the task without retries, its message the table of failed rules, and
 * downstream tasks become upstream_failed.
 */
public final class GateOperator implements Operator {
    public static final String REPORT_FORMAT = "anvil.gate/v1";

    private final ArtifactIO io;

    public GateOperator(ArtifactIO io) {
        this.io = io;
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.GATE;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        if (!(with.get("require") instanceof Map<?, ?> require)) {
            throw new InvalidTaskInputException("gate needs with.require: the rules, e.g. {accuracy: \">= 0.985\"}");
        }
        ArtifactRef reportRef = io.resolve(name(), with, "report");
        io.used(context, reportRef, "report");
        Path file = io.fetch(reportRef, ".json");
        Map<String, Object> validation;
        try {
            validation = io.json().readValue(file.toFile(), Map.class);
        } catch (java.io.IOException e) {
            throw new InvalidTaskInputException("gate: with.report is not a JSON validation report: " + e.getMessage(), e);
        } finally {
            Files.deleteIfExists(file);
        }
        GatePolicy.Outcome outcome;
        try {
            outcome = GatePolicy.check((Map<String, Object>) require, validation);
        } catch (IllegalArgumentException e) {
            throw new InvalidTaskInputException("gate: " + e.getMessage(), e);
        }
        List<Map<String, Object>> rules = new ArrayList<>();
        for (GatePolicy.RuleResult r : outcome.rules()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("rule", r.rule());
            row.put("value", r.value());
            row.put("threshold", r.threshold());
            row.put("passed", r.passed());
            row.put("note", r.note());
            rules.add(row);
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("format", REPORT_FORMAT);
        report.put("passed", outcome.passed());
        report.put("validation", io.asOutput(reportRef));
        report.put("rules", rules);
        ArtifactRef published = io.publishJson(context, report, "gate_report");
        if (!outcome.passed()) {
            throw new GateFailedException(outcome.failureTable());
        }
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("passed", true);
        outputs.put("gate_report", io.asOutput(published));
        outputs.put("report", io.asOutput(reportRef));
        return outputs;
    }

    /** A gate that said no: not retried, as the same model would fail the same way. */
    public static final class GateFailedException extends InvalidTaskInputException {
        public GateFailedException(String table) {
            super(table);
        }
    }
}
