package dev.anvil.api.ui;

import dev.anvil.db.Approval;
import dev.anvil.db.ApprovalDecision;
import dev.anvil.db.LineageGraph;
import dev.anvil.db.PipelineRun;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What approval.html shows besides the charts: the approval, its run and decisions, whether the signed-in
 * caller may decide it, the run's DAG and the evidence (gate report, comparison, lineage).
 *
 * @param run null when the run's row is gone
 * @param reviewer whether the caller holds the reviewer role
 * @param ownRun whether the caller submitted the run (four-eyes rule)
 * @param gate null when the run has no gate report
 * @param comparison null when the run has no validation report
 * @param lineage null when the validation report names no candidate
 * @param done the outcome of the decision just made, if any
 * @param error why the decision just tried was refused, if it was
 * @param plan what is being approved (the approval task's summary) and what approving starts (downstream canaries)
 */
record ApprovalPage(Approval approval, PipelineRun run, List<ApprovalDecision> decisions, boolean reviewer, boolean ownRun,
        RunGraph graph, GateReport gate, Comparison comparison, Lineage lineage, String done, String error,
        ApprovalPlan plan) {

    /** The approval's id as a path segment of the decision forms. */
    public String approvalPath() {
        return URLEncoder.encode(approval.id(), StandardCharsets.UTF_8);
    }

    /** The gate's rules as the gate task reported them. */
    record GateReport(List<Rule> rules) {
        @SuppressWarnings("unchecked")
        static GateReport of(Map<String, Object> report) {
            return new GateReport(((List<Map<String, Object>>) report.getOrDefault("rules", List.of())).stream()
                    .map(r -> new Rule(r.get("rule"), r.get("value"), r.get("threshold"), Boolean.TRUE.equals(r.get("passed")),
                            r.get("note")))
                    .toList());
        }
    }

    record Rule(Object rule, Object value, Object threshold, boolean passed, Object note) {
    }

    /** The candidate model's recorded ancestry; no edges when it was uploaded directly. */
    record Lineage(String candidate, List<Edge> edges) {
        static Lineage of(String candidate, LineageGraph graph) {
            return new Lineage(candidate, graph == null ? List.of() : graph.edges().stream()
                    .map(e -> new Edge(e.from(), e.relation().name().toLowerCase(Locale.ROOT), e.role(), e.to())).toList());
        }
    }

    record Edge(String from, String relation, String role, String to) {
    }
}
