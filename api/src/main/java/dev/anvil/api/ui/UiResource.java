package dev.anvil.api.ui;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.api.approvals.ApprovalDecisions;
import dev.anvil.api.auth.ApiTokenAuthenticationMechanism;
import dev.anvil.api.auth.Caller;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.OidcTenants;
import dev.anvil.api.auth.Role;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.api.runs.RunWaiting;
import dev.anvil.api.serving.RolloutControls;
import dev.anvil.workflows.rollout.RolloutStatus;
import dev.anvil.activities.rollout.ProvenanceChain;
import dev.anvil.db.ApiTokenStore;
import dev.anvil.db.Approval;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.Endpoint;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.LineageStore;
import dev.anvil.db.Model;
import dev.anvil.db.ModelAlias;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.RunAdmissionStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.Rollout;
import dev.anvil.db.RolloutStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.storage.ObjectStore;
import dev.anvil.workflows.approval.Principals;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import dev.anvil.workflows.pipeline.spec.TaskSpec;
import io.quarkus.oidc.OidcSession;
import io.quarkus.qute.TemplateInstance;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The reviewer web UI: HTML pages rendered on the server from the Qute templates in the top-level
 * {@code ui/templates/} ({@link Pages}; no JavaScript needed, {@link Charts} adds charts drawn by one
 * small script, with tables as the fallback), signed in with an API token
 * kept in an HttpOnly, SameSite=Strict cookie. Decisions go through {@link ApprovalDecisions}, the
 * same path as the REST API, so the role and four-eyes rules are the same. Every form carries the
 * browser's form token, checked by {@link FormTokens} before a POST runs.
 */
@Path("/ui")
@Produces(MediaType.TEXT_HTML)
@Blocking
@FormTokenChecked
public class UiResource {
    @Inject CurrentCaller caller;
    @Inject ApiTokenStore tokens;
    @Inject ApprovalStore approvals;
    @Inject ApprovalDecisions decisions;
    @Inject PipelineRunStore runs;
    @Inject TaskRunStore taskRuns;
    @Inject RunAdmissionStore admissions;
    @Inject PipelineStore pipelines;
    @Inject LineageStore lineage;
    @Inject ModelRegistryStore registry;
    @Inject ProvenanceChain provenance;
    @Inject EndpointStore endpoints;
    @Inject RolloutStore rollouts;
    @Inject RolloutControls rolloutControls;
    @Inject AuditLogStore audit;
    @Inject dev.anvil.db.DriftReportStore driftReports;
    @Inject ObjectStore objects;
    @Inject ObjectMapper json;
    @Inject OidcTenants oidc;
    @Inject Instance<OidcSession> oidcSession;

    @GET
    public Response home() {
        return Response.seeOther(URI.create("/ui/approvals")).build();
    }

    @GET
    @Path("/login")
    public Response loginPage(@QueryParam("error") String error) {
        return loginPage(error, error == null ? 200 : 401);
    }

    private Response loginPage(String error, int status) {
        String ssoHost = oidc.singleSignOn() ? oidc.issuer().map(issuer -> URI.create(issuer).getHost()).orElse(null)
                : null;
        return Response.status(status).entity(Pages.login(new Frame("Sign in", null), error, ssoHost)).build();
    }

    /**
     * Single sign-on. quarkus-oidc (tenant anvil-ui, see OidcTenants) answers an anonymous browser here with the
     * redirect to the provider (authorization code flow with PKCE), so this runs only once signed in.
     */
    @GET
    @Path("/login/oidc")
    public Response oidcLogin() {
        if (!oidc.singleSignOn()) {
            return loginPage("Single sign-on is not configured here (anvil.auth.oidc.client-id); sign in with an API token.",
                    404);
        }
        return Response.seeOther(URI.create("/ui/approvals")).build();
    }

    /**
     * The provider sends the browser back here; quarkus-oidc trades the code for tokens and starts the session
     * before this runs (a failure goes to the sign-in page, see AuthFailures).
     */
    @GET
    @Path("/login/oidc/callback")
    public Response oidcCallback() {
        Optional<Caller> who = caller.get();
        if (!oidc.singleSignOn() || who.isEmpty()) {
            return loginPage("Single sign-on is not configured here; sign in with an API token.", 404);
        }
        return Response.ok(Pages.signedIn(new Frame("Signed in", null), who.get().principal())).build();
    }

    /** The provider refused to sign the user in (quarkus-oidc's error path). */
    @GET
    @Path("/login/oidc/error")
    public Response oidcError(@QueryParam("error") String error, @QueryParam("error_description") String description) {
        return loginPage("Single sign-on failed: the provider did not sign you in: " + (error == null ? "unknown error" : error)
                + (description == null || description.isBlank() ? "" : " (" + description + ")"), 401);
    }

    @POST
    @Path("/login")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response login(@FormParam("token") String token) {
        if (token == null || tokens.authenticate(token.trim()).isEmpty()) {
            return loginPage("That token is unknown or revoked.");
        }
        NewCookie cookie = new NewCookie.Builder(ApiTokenAuthenticationMechanism.COOKIE).value(token.trim()).path("/").httpOnly(true)
                .sameSite(NewCookie.SameSite.STRICT).build();
        return Response.seeOther(URI.create("/ui/approvals")).cookie(cookie).build();
    }

    @POST
    @Path("/logout")
    public Response logout() {
        NewCookie gone = new NewCookie.Builder(ApiTokenAuthenticationMechanism.COOKIE).value("").path("/").maxAge(0)
                .httpOnly(true).sameSite(NewCookie.SameSite.STRICT).build();
        if (oidcSession.isResolvable() && oidcSession.get().getTenantId() != null) {
            oidcSession.get().logout().await().indefinitely(); // drops the single sign-on session cookie
        }
        return Response.seeOther(URI.create("/ui/login")).cookie(gone).build();
    }

    @GET
    @Path("/approvals")
    public Response approvalsPage(@QueryParam("state") String state) {
        Optional<Caller> who = caller.get();
        if (who.isEmpty()) {
            return toLogin();
        }
        String shown = state != null && Approval.STATES.contains(state) ? state : "pending";
        List<Pages.ApprovalRow> rows = approvals.list(shown, 200).stream()
                .map(a -> new Pages.ApprovalRow(a, runs.find(a.runId()).map(PipelineRun::pipeline).orElse(""))).toList();
        return Response.ok(Pages.approvals(frame("Approvals", who.get()), shown, Approval.STATES, rows)).build();
    }

    @GET
    @Path("/approvals/{id}")
    public Response approvalPage(@PathParam("id") String id, @QueryParam("done") String done) {
        Optional<Caller> who = caller.get();
        if (who.isEmpty()) {
            return toLogin();
        }
        Optional<Approval> approval = approvals.find(id);
        if (approval.isEmpty()) {
            return Response.status(404).entity(Pages.notFound(frame("Approval not found", who.get()), "approval", id)).build();
        }
        return Response.ok(approvalPage(approval.get(), who.get(), done, null)).build();
    }

    @POST
    @Path("/approvals/{id}/approve")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response approve(@PathParam("id") String id, @FormParam("comment") String comment) {
        return decide(id, "approve", comment);
    }

    @POST
    @Path("/approvals/{id}/reject")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response reject(@PathParam("id") String id, @FormParam("comment") String comment) {
        return decide(id, "reject", comment);
    }

    private Response decide(String id, String decision, String comment) {
        Optional<Caller> who = caller.get();
        if (who.isEmpty()) {
            return toLogin();
        }
        try {
            Map<String, Object> outcome = decisions.decide(id, who.get(), decision, comment);
            String msg = (decision.equals("approve") ? "Approved" : "Rejected") + "; the approval is now " + outcome.get("state") + ".";
            return Response.seeOther(URI.create("/ui/approvals/" + enc(id) + "?done=" + enc(msg))).build();
        } catch (ProblemException e) {
            if (e.status() == 404) {
                return approvalPage(id, null);
            }
            Approval approval = approvals.find(id).orElseThrow();
            return Response.status(e.status()).entity(approvalPage(approval, who.get(), null, e.getMessage())).build();
        }
    }

    /** The approval with its evidence: the run's DAG, the gate report, the comparison, the charts, the lineage. */
    private TemplateInstance approvalPage(Approval a, Caller who, String done, String error) {
        PipelineRun run = runs.find(a.runId()).orElse(null);
        Map<String, TaskRun> tasks = Evidence.latestAttempts(taskRuns.listByRun(a.runId()));
        Evidence evidence = new Evidence(objects, json);
        Optional<Map<String, Object>> validation = evidence.report(tasks, "validate", "report");
        ApprovalPage page = new ApprovalPage(a, run, approvals.decisions(a.id()), who.has(Role.REVIEWER),
                Principals.same(who.principal(), a.requestedBy()), RunGraph.of(run, tasks, pipelines),
                evidence.report(tasks, "gate", "gate_report").map(ApprovalPage.GateReport::of).orElse(null),
                validation.map(Comparison::of).orElse(null), validation.flatMap(this::lineageOf).orElse(null), done, error,
                ApprovalPlan.of(run, a.taskId(), pipelines));
        return Pages.approval(frame("Approval " + a.id(), who), page, validation.map(v -> Charts.of(v, json)).orElse(null));
    }

    @SuppressWarnings("unchecked")
    private Optional<ApprovalPage.Lineage> lineageOf(Map<String, Object> validation) {
        Map<String, Object> model = (Map<String, Object>) validation.getOrDefault("model", Map.of());
        if (!(model.get("sha256") instanceof String sha)) {
            return Optional.empty();
        }
        return Optional.of(ApprovalPage.Lineage.of(sha, lineage.ancestors(sha).orElse(null)));
    }

    @GET
    @Path("/runs")
    public Response runsPage() {
        Optional<Caller> who = caller.get();
        if (who.isEmpty()) {
            return toLogin();
        }
        java.util.Map<String, dev.anvil.db.RunAdmissionStore.Waiting> waiting = admissions.waiting();
        List<Pages.RunRow> rows = runs.list(null, null, 100, 0).stream()
                .map(r -> new Pages.RunRow(r, RunWaiting.brief(r, Optional.ofNullable(waiting.get(r.id())))))
                .toList();
        return Response.ok(Pages.runs(frame("Runs", who.get()), rows)).build();
    }

    @GET
    @Path("/runs/{id}")
    public Response runPage(@PathParam("id") String id) {
        Optional<Caller> who = caller.get();
        if (who.isEmpty()) {
            return toLogin();
        }
        Optional<PipelineRun> run = runs.find(id);
        if (run.isEmpty()) {
            return Response.status(404).entity(Pages.notFound(frame("Run not found", who.get()), "run", id)).build();
        }
        List<TaskRun> all = taskRuns.listByRun(id);
        Map<String, TaskRun> latest = Evidence.latestAttempts(all);
        RunGraph graph = RunGraph.of(run.get(), latest, pipelines);
        List<Pages.Attempt> attempts = all.stream().map(t -> Pages.Attempt.of(run.get(), t)).toList();
        String waiting = RunWaiting.reason(run.get(), admissions.find(id));
        return Response.ok(Pages.run(frame("Run " + id, who.get()), run.get(), waiting, approvals.listByRun(id), graph,
                attempts, ParetoChart.of(latest, json), LossCurve.of(latest.values(), json))).build();
    }

    /** Registered models and their versions, each with where it serves; {@code q} keeps the names containing it. */
    @GET
    @Path("/models")
    public Response modelsPage(@QueryParam("q") String q) {
        Optional<Caller> who = caller.get();
        if (who.isEmpty()) {
            return toLogin();
        }
        String query = q == null ? "" : q.strip();
        if (query.length() > 200) {
            query = query.substring(0, 200); // a name is shorter; a longer query matches nothing anyway
        }
        String needle = query.toLowerCase(java.util.Locale.ROOT);
        Map<String, List<Pages.Serving>> serving = new LinkedHashMap<>();
        for (Endpoint e : endpoints.list()) {
            serving.computeIfAbsent(e.model() + "@" + e.stableVersion(), k -> new ArrayList<>())
                    .add(new Pages.Serving(e.name(), "stable", e.hasCanary() ? 100 - e.canaryWeight() : 100));
            if (e.hasCanary()) {
                serving.computeIfAbsent(e.model() + "@" + e.canaryVersion(), k -> new ArrayList<>())
                        .add(new Pages.Serving(e.name(), "canary", e.canaryWeight()));
            }
        }
        List<Pages.ModelEntry> models = new ArrayList<>();
        for (Model m : registry.listModels()) {
            if (!needle.isEmpty() && !m.name().toLowerCase(java.util.Locale.ROOT).contains(needle)) {
                continue;
            }
            Map<Integer, List<String>> aliases = new LinkedHashMap<>();
            for (ModelAlias alias : registry.listAliases(m.name())) {
                aliases.computeIfAbsent(alias.version(), k -> new ArrayList<>()).add(alias.alias());
            }
            models.add(new Pages.ModelEntry(m, registry.listVersions(m.name()).stream()
                    .map(v -> new Pages.VersionRow(v, String.join(", ", aliases.getOrDefault(v.version(), List.of())),
                            provenance.walk(v.artifactSha256()),
                            serving.getOrDefault(m.name() + "@" + v.version(), List.of()))).toList()));
        }
        return Response.ok(Pages.models(frame("Models", who.get()), query, models)).build();
    }

    /**
     * Endpoints and what they serve, each rollout and each change by hand an admin let skip the evidence shown
     * with who and why.
     */
    @GET
    @Path("/endpoints")
    public Response endpointsPage() {
        Optional<Caller> who = caller.get();
        if (who.isEmpty()) {
            return toLogin();
        }
        List<Pages.EndpointEntry> entries = new ArrayList<>();
        for (Endpoint e : endpoints.list()) {
            List<Pages.BreakGlass> glass = audit.listBySubject("endpoint:" + e.name(), 1000).stream()
                    .filter(a -> "rollout.break_glass".equals(a.action()) || "endpoint.break_glass".equals(a.action()))
                    .map(a -> new Pages.BreakGlass(a.actor(), a.at(), detail(a.detailsJson(), "reason"),
                            detail(a.detailsJson(), "rollout"), detail(a.detailsJson(),
                            a.action().equals("rollout.break_glass") ? "candidate" : "artifact"),
                            detail(a.detailsJson(), "version"), detail(a.detailsJson(), "change"))).toList();
            entries.add(new Pages.EndpointEntry(e, rollouts.findActive(e.name()).orElse(null), glass,
                    DriftPanel.of(driftReports.list(e.name(), 1).stream().findFirst().orElse(null), json)));
        }
        return Response.ok(Pages.endpoints(frame("Endpoints", who.get()), entries)).build();
    }

    /** The latest rollouts, newest first, on one endpoint or in one state when asked (an unknown state finds none). */
    @GET
    @Path("/rollouts")
    public Response rolloutsPage(@QueryParam("endpoint") String endpoint, @QueryParam("state") String state) {
        Optional<Caller> who = caller.get();
        if (who.isEmpty()) {
            return toLogin();
        }
        String onEndpoint = endpoint == null || endpoint.isBlank() ? null : endpoint.strip();
        String inState = state == null || state.isBlank() ? null : state;
        List<Rollout> found = inState != null && !Rollout.STATES.contains(inState) ? List.of()
                : rollouts.list(onEndpoint, inState, 200, 0);
        return Response.ok(Pages.rollouts(frame("Rollouts", who.get()), found, onEndpoint == null ? "" : onEndpoint,
                inState == null ? "" : inState, Rollout.STATES)).build();
    }

    /** A rollout: its steps, each window's analysis, and the buttons to steer it for a reviewer or an admin. */
    @GET
    @Path("/rollouts/{id}")
    public Response rolloutPage(@PathParam("id") String id, @QueryParam("done") String done) {
        Optional<Caller> who = caller.get();
        if (who.isEmpty()) {
            return toLogin();
        }
        return rolloutPage(id, who.get(), 200, done, null);
    }

    /**
     * Pause, resume, promote or abort, through {@link RolloutControls} as the REST API does (the same roles, the
     * same refusals, the same audit record); the form token was checked before this runs.
     */
    @POST
    @Path("/rollouts/{id}/{command}")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response steerRollout(@PathParam("id") String id, @PathParam("command") String command,
                                 @FormParam("reason") String reason) {
        Optional<Caller> who = caller.get();
        if (who.isEmpty()) {
            return toLogin();
        }
        try {
            RolloutStatus status = rolloutControls.control(id, who.get(), command,
                    reason == null || reason.isBlank() ? null : reason.trim());
            String msg = "Sent " + command + "; the rollout is now " + status.state() + " at weight " + status.weight() + " %.";
            return Response.seeOther(URI.create("/ui/rollouts/" + enc(id) + "?done=" + enc(msg))).build();
        } catch (ProblemException e) {
            return rolloutPage(id, who.get(), e.status(), null, e.getMessage());
        }
    }

    private Response rolloutPage(String id, Caller who, int status, String done, String error) {
        Optional<Rollout> row = rollouts.find(id);
        if (row.isEmpty()) {
            return Response.status(404).entity(Pages.notFound(frame("Rollout not found", who), "rollout", id)).build();
        }
        RolloutStatus live = null;
        try {
            if (rolloutControls.view(id).get("live") instanceof RolloutStatus s) {
                live = s;
            }
        } catch (ProblemException e) {
            // no live status: the row is what there is
        }
        RolloutPage page = RolloutPage.of(row.get(), live, rollouts.windows(id), RolloutControls.maySteer(who), json,
                done, error);
        return Response.status(status).entity(Pages.rollout(frame("Rollout " + id, who), page)).build();
    }

    private String detail(String detailsJson, String key) {
        try {
            return detailsJson == null ? null : json.readTree(detailsJson).path(key).asText(null);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return null;
        }
    }

    private static Frame frame(String title, Caller who) {
        return new Frame(title, who.principal());
    }

    private static Response toLogin() {
        return Response.seeOther(URI.create("/ui/login")).build();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
