package dev.anvil.api.ui;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.api.approvals.ApprovalDecisions;
import dev.anvil.api.auth.AuthFilter;
import dev.anvil.api.auth.Caller;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.OidcLogin;
import dev.anvil.api.auth.OidcTokens;
import dev.anvil.api.auth.Role;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.ApiTokenStore;
import dev.anvil.db.Approval;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.LineageStore;
import dev.anvil.db.Model;
import dev.anvil.db.ModelAlias;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.storage.ObjectStore;
import io.quarkus.qute.TemplateInstance;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
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
 * same path as the REST API, so the role and four-eyes rules are the same.
 */
@Path("/ui")
@Produces(MediaType.TEXT_HTML)
@Blocking
public class UiResource {
    @Inject CurrentCaller caller;
    @Inject ApiTokenStore tokens;
    @Inject ApprovalStore approvals;
    @Inject ApprovalDecisions decisions;
    @Inject PipelineRunStore runs;
    @Inject TaskRunStore taskRuns;
    @Inject PipelineStore pipelines;
    @Inject LineageStore lineage;
    @Inject ModelRegistryStore registry;
    @Inject ObjectStore objects;
    @Inject ObjectMapper json;
    @Inject OidcTokens oidc;

    /** Carries state and PKCE verifier from the start of a single sign-on to its callback. */
    static final String OIDC_COOKIE = "anvil_oidc";

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
        String ssoHost = oidc.login().map(l -> URI.create(l.issuer()).getHost()).orElse(null);
        return Response.status(status).entity(Pages.login(new Frame("Sign in", null), error, ssoHost)).build();
    }

    /** Single sign-on, step 1: remember state and PKCE verifier in a short-lived cookie, go to the provider. */
    @GET
    @Path("/login/oidc")
    public Response oidcLogin(@Context UriInfo uri) {
        if (oidc.login().isEmpty()) {
            return loginPage("Single sign-on is not configured here (anvil.auth.oidc.client-id); sign in with an API token.",
                    404);
        }
        OidcLogin.Started started;
        try {
            started = oidc.login().get().start(callback(uri));
        } catch (OidcLogin.Failed e) {
            return loginPage("Single sign-on cannot start: " + e.getMessage(), 503);
        } catch (ProblemException e) {
            return loginPage("Single sign-on cannot start: " + e.getMessage(), e.status());
        }
        // Lax: the provider's redirect back is a top-level navigation from another site
        NewCookie pending = new NewCookie.Builder(OIDC_COOKIE).value(started.cookieValue()).path("/ui/login/oidc")
                .maxAge(600).httpOnly(true).secure("https".equals(uri.getBaseUri().getScheme()))
                .sameSite(NewCookie.SameSite.LAX).build();
        return Response.seeOther(started.authorizeAt()).cookie(pending).build();
    }

    /** Single sign-on, step 2: the provider sends the browser back with a code (or an error). */
    @GET
    @Path("/login/oidc/callback")
    public Response oidcCallback(@Context UriInfo uri, @CookieParam(OIDC_COOKIE) String pending,
            @QueryParam("state") String state, @QueryParam("code") String code, @QueryParam("error") String error,
            @QueryParam("error_description") String errorDescription) {
        NewCookie done = new NewCookie.Builder(OIDC_COOKIE).value("").path("/ui/login/oidc").maxAge(0).httpOnly(true)
                .sameSite(NewCookie.SameSite.LAX).build();
        if (oidc.login().isEmpty()) {
            return loginPage("Single sign-on is not configured here; sign in with an API token.", 404);
        }
        Caller who;
        String token;
        try {
            token = oidc.login().get().finish(pending, state, code, error, errorDescription, callback(uri));
            who = oidc.verifier().orElseThrow().verify(token);
        } catch (OidcLogin.Failed e) {
            return Response.fromResponse(loginPage("Single sign-on failed: " + e.getMessage(), 401)).cookie(done).build();
        } catch (ProblemException e) {
            return Response.fromResponse(loginPage("Single sign-on failed: " + e.getMessage(), e.status())).cookie(done)
                    .build();
        }
        NewCookie session = new NewCookie.Builder(AuthFilter.COOKIE).value(token).path("/").httpOnly(true)
                .secure("https".equals(uri.getBaseUri().getScheme())).sameSite(NewCookie.SameSite.STRICT).build();
        // a page, not a redirect: the browser sends a SameSite=Strict cookie on a navigation this site starts,
        // not on the tail of a redirect chain that began at the provider
        return Response.ok(Pages.signedIn(new Frame("Signed in", null), who.principal())).cookie(session, done).build();
    }

    private URI callback(UriInfo uri) {
        return oidc.redirectUri().map(URI::create)
                .orElseGet(() -> uri.getBaseUriBuilder().path("/ui/login/oidc/callback").build());
    }

    @POST
    @Path("/login")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response login(@FormParam("token") String token) {
        if (token == null || tokens.authenticate(token.trim()).isEmpty()) {
            return loginPage("That token is unknown or revoked.");
        }
        NewCookie cookie = new NewCookie.Builder(AuthFilter.COOKIE).value(token.trim()).path("/").httpOnly(true)
                .sameSite(NewCookie.SameSite.STRICT).build();
        return Response.seeOther(URI.create("/ui/approvals")).cookie(cookie).build();
    }

    @POST
    @Path("/logout")
    public Response logout() {
        NewCookie gone = new NewCookie.Builder(AuthFilter.COOKIE).value("").path("/").maxAge(0).httpOnly(true)
                .sameSite(NewCookie.SameSite.STRICT).build();
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
                who.principal().equals(a.requestedBy()), RunGraph.of(run, tasks, pipelines),
                evidence.report(tasks, "gate", "gate_report").map(ApprovalPage.GateReport::of).orElse(null),
                validation.map(Comparison::of).orElse(null), validation.flatMap(this::lineageOf).orElse(null), done, error);
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
        return Response.ok(Pages.runs(frame("Runs", who.get()), runs.list(null, null, 100, 0))).build();
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
        RunGraph graph = RunGraph.of(run.get(), Evidence.latestAttempts(taskRuns.listByRun(id)), pipelines);
        return Response.ok(Pages.run(frame("Run " + id, who.get()), run.get(), approvals.listByRun(id), graph)).build();
    }

    @GET
    @Path("/models")
    public Response modelsPage() {
        Optional<Caller> who = caller.get();
        if (who.isEmpty()) {
            return toLogin();
        }
        List<Pages.ModelEntry> models = new ArrayList<>();
        for (Model m : registry.listModels()) {
            Map<Integer, List<String>> aliases = new LinkedHashMap<>();
            for (ModelAlias alias : registry.listAliases(m.name())) {
                aliases.computeIfAbsent(alias.version(), k -> new ArrayList<>()).add(alias.alias());
            }
            models.add(new Pages.ModelEntry(m, registry.listVersions(m.name()).stream()
                    .map(v -> new Pages.VersionRow(v, String.join(", ", aliases.getOrDefault(v.version(), List.of())))).toList()));
        }
        return Response.ok(Pages.models(frame("Models", who.get()), models)).build();
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
