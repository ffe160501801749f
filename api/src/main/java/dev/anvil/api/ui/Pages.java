package dev.anvil.api.ui;

import dev.anvil.activities.rollout.CandidateEvidence;
import dev.anvil.db.Approval;
import dev.anvil.db.Endpoint;
import dev.anvil.db.Model;
import dev.anvil.db.ModelVersion;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.Rollout;
import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import java.util.List;

/**
 * The reviewer UI's pages, one Qute template each in the top-level {@code ui/templates/} (the api build
 * puts them where Qute looks). Checked at build time: an expression the parameters below cannot answer
 * fails the build. Every value is HTML-escaped unless it is a {@link io.quarkus.qute.RawString}.
 */
@CheckedTemplate
final class Pages {
    private Pages() {
    }

    /** {@code ssoHost}: the single sign-on provider's host, null when single sign-on is not configured. */
    static native TemplateInstance login(Frame frame, String error, String ssoHost);

    static native TemplateInstance signedIn(Frame frame, String principal);

    static native TemplateInstance notFound(Frame frame, String kind, String id);

    /** A form post without this browser's form token ({@link FormTokens}); {@code noCookie}: it holds none. */
    static native TemplateInstance formRefused(Frame frame, boolean noCookie);

    static native TemplateInstance approvals(Frame frame, String shown, List<String> states, List<ApprovalRow> rows);

    static native TemplateInstance approval(Frame frame, ApprovalPage page, Charts charts);

    /** The approval page's chart sections alone (the {@code charts} fragment of approval.html). */
    static native TemplateInstance approval$charts(Charts charts);

    /** The approval page's per-output comparison metrics alone (the {@code outputs} fragment of approval.html). */
    static native TemplateInstance approval$outputs(Comparison comparison);

    static native TemplateInstance runs(Frame frame, List<RunRow> runs);

    /**
     * {@code waiting}: why a queued run has not started (its pipeline's max_active_runs reached), null when it does
     * not wait; {@code fronts}: the Pareto front of each compress task that succeeded (none: no section);
     * {@code lossCurves}: the training loss of each task whose latest try recorded one.
     */
    static native TemplateInstance run(Frame frame, PipelineRun run, String waiting, List<Approval> approvals, RunGraph graph,
                                       List<Attempt> attempts, List<ParetoChart> fronts, List<LossCurve> lossCurves);

    /** {@code query}: the search as given ("" for none). */
    static native TemplateInstance models(Frame frame, String query, List<ModelEntry> models);

    static native TemplateInstance endpoints(Frame frame, List<EndpointEntry> endpoints);

    static native TemplateInstance rollouts(Frame frame, List<Rollout> rollouts, String endpoint, String state,
                                            List<String> states);

    static native TemplateInstance rollout(Frame frame, RolloutPage page);

    /** A row of the runs list: the run and, while it waits for a slot (max_active_runs), why in a few words. */
    record RunRow(PipelineRun run, String waiting) {
    }

    /** A row of the approvals list: the approval and the pipeline of its run. */
    record ApprovalRow(Approval approval, String pipeline) {
    }

    /**
     * One try of a task, with the address of its log: the Airflow-compatible API's log of that try (the UI's
     * sign-in cookie is accepted there).
     */
    record Attempt(dev.anvil.db.TaskRun run, String logHref) {
        static Attempt of(PipelineRun pipelineRun, dev.anvil.db.TaskRun t) {
            return new Attempt(t, "/api/v2/dags/" + seg(pipelineRun.pipeline()) + "/dagRuns/" + seg(pipelineRun.id())
                    + "/taskInstances/" + seg(t.taskId()) + "/logs/" + t.attempt());
        }

        private static String seg(String s) {
            return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
        }
    }

    /** A registered model and its versions, each with the aliases that point at it. */
    record ModelEntry(Model model, List<VersionRow> versions) {
    }

    /**
     * A version with its aliases, what its provenance chain says (built by, approved by, signature) and the
     * endpoints serving it now.
     */
    record VersionRow(ModelVersion version, String aliases, CandidateEvidence evidence, List<Serving> serves) {
        public String approvedBy() {
            return String.join(", ", evidence.approvedBy());
        }
    }

    /** An endpoint serving a version: as its stable or canary version, with its live share of traffic. */
    record Serving(String endpoint, String role, int weight) {
    }

    /**
     * An endpoint, what it serves (each version with its live share of traffic), its running or paused rollout
     * (null when none), the rollouts on it that an admin let skip the evidence, and its latest drift check (null
     * when none ran).
     */
    record EndpointEntry(Endpoint endpoint, Rollout activeRollout, List<BreakGlass> breakGlass, DriftPanel drift) {
        EndpointEntry(Endpoint endpoint, Rollout activeRollout, List<BreakGlass> breakGlass) {
            this(endpoint, activeRollout, breakGlass, null);
        }

        /** The stable version's share of traffic: what the canary does not take. */
        public int stableWeight() {
            return endpoint.hasCanary() ? 100 - endpoint.canaryWeight() : 100;
        }
    }

    /**
     * An admin's break-glass record from the audit log: who, when, why, and which rollout of which candidate,
     * or (a change by hand, rollout null) which version and artifact went on traffic by which change.
     */
    record BreakGlass(String actor, java.time.Instant at, String reason, String rollout, String candidate,
                      String version, String change) {
        /** What the change by hand did, in words. */
        public String changeInWords() {
            return switch (change == null ? "" : change) {
                case "endpoint.created" -> "created the endpoint serving";
                case "endpoint.updated" -> "made stable";
                case "endpoint.canary.set" -> "set as canary";
                case "endpoint.canary.weight_changed" -> "gave more traffic to canary";
                case "endpoint.canary.promoted" -> "promoted canary";
                default -> "put on traffic";
            };
        }
    }
}
