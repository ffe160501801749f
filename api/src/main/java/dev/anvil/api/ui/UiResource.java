package dev.anvil.api.ui;

import static dev.anvil.api.ui.Html.esc;
import static dev.anvil.api.ui.Html.num;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.storage.ObjectStore;
import dev.anvil.api.approvals.ApprovalDecisions;
import dev.anvil.api.auth.ApiTokenAuthenticationMechanism;
import dev.anvil.api.auth.Caller;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.OidcTenants;
import dev.anvil.api.auth.Role;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.ApiTokenStore;
import dev.anvil.db.Approval;
import dev.anvil.db.ApprovalDecision;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.LineageGraph;
import dev.anvil.db.LineageStore;
import dev.anvil.db.Model;
import dev.anvil.db.ModelAlias;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.ModelVersion;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import dev.anvil.workflows.pipeline.spec.TaskSpec;
import io.quarkus.oidc.OidcSession;
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
import java.util.Set;

/**
 * The reviewer web UI: server-rendered HTML pages (no JavaScript needed; {@link Charts} adds charts drawn by
 * one small script, with tables as the fallback), signed in with an API token
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
        String sso = oidc.singleSignOn() ? oidc.issuer().map(issuer -> "<p><a class=\"button\" href=\"/ui/login/oidc\">"
                + "Sign in with single sign-on</a> <span class=\"muted\">(" + esc(URI.create(issuer).getHost())
                + ")</span></p>\n<p>or with an API token:</p>\n").orElse("") : "";
        String body = (error == null ? "" : "<p class=\"error\" role=\"alert\">" + esc(error) + "</p>") + sso + """
                <form method="post" action="/ui/login">
                  <p><label for="token">API token</label><br>
                  <input id="token" name="token" type="password" size="60" required autocomplete="off"></p>
                  <p><button type="submit">Sign in</button></p>
                </form>
                <p>Local stack: <code>./anvil status</code> prints the demo tokens. Others get one from an admin
                (<code>POST /api/tokens</code>).</p>""";
        return Response.status(status).entity(Html.page("Sign in", null, body, false)).build();
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
        String body = "<p>Signed in as <strong>" + esc(who.get().principal()) + "</strong>.</p>\n"
                + "<p><a href=\"/ui/approvals\">Continue to the approvals</a></p>";
        String html = Html.page("Signed in", null, body, false)
                .replace("<head>", "<head>\n<meta http-equiv=\"refresh\" content=\"0; url=/ui/approvals\">");
        return Response.ok(html).build();
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
        String wanted = state == null ? "pending" : state;
        if (!Approval.STATES.contains(wanted)) {
            wanted = "pending";
        }
        StringBuilder b = new StringBuilder("<p>Show: ");
        for (String s : Approval.STATES) {
            b.append(s.equals(wanted) ? "<b>" + s + "</b> " : "<a href=\"/ui/approvals?state=" + s + "\">" + s + "</a> ");
        }
        b.append("</p>");
        List<Approval> list = approvals.list(wanted, 200);
        if (list.isEmpty()) {
            b.append("<p>No ").append(esc(wanted)).append(" approvals.</p>");
        } else {
            b.append("<table data-testid=\"approvals\"><caption>").append(esc(wanted))
                    .append(" approvals, newest first</caption><tr><th>approval</th><th>pipeline</th><th>task</th>"
                            + "<th>submitted by</th><th>requested</th><th>approvals needed</th><th>state</th></tr>");
            for (Approval a : list) {
                String pipeline = runs.find(a.runId()).map(PipelineRun::pipeline).orElse("");
                b.append("<tr><td><a href=\"/ui/approvals/").append(esc(a.id())).append("\">").append(esc(a.id()))
                        .append("</a></td><td>").append(esc(pipeline)).append("</td><td>").append(esc(a.taskId()))
                        .append("</td><td>").append(esc(a.requestedBy())).append("</td><td>").append(esc(a.requestedAt()))
                        .append("</td><td class=\"n\">").append(a.requiredApprovals()).append("</td><td>")
                        .append(Html.stateBadge(a.state())).append("</td></tr>");
            }
            b.append("</table>");
        }
        return ok(Html.page("Approvals", who.get().principal(), b.toString(), false));
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
            return Response.status(404).entity(Html.page("Approval not found", who.get().principal(),
                    "<p class=\"error\">No approval with id <code>" + esc(id) + "</code>. <a href=\"/ui/approvals\">Pending approvals</a></p>",
                    false)).build();
        }
        return Response.ok(approvalHtml(approval.get(), who.get(), done, null)).build();
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
            return Response.status(e.status()).entity(approvalHtml(approval, who.get(), null, e.getMessage())).build();
        }
    }

    private String approvalHtml(Approval a, Caller who, String done, String error) {
        PipelineRun run = runs.find(a.runId()).orElse(null);
        Map<String, TaskRun> tasks = Evidence.latestAttempts(taskRuns.listByRun(a.runId()));
        Evidence evidence = new Evidence(objects, json);
        StringBuilder b = new StringBuilder();
        if (done != null) {
            b.append("<p class=\"ok\" role=\"status\">").append(esc(done)).append("</p>");
        }
        if (error != null) {
            b.append("<p class=\"error\" role=\"alert\" data-testid=\"refusal\">").append(esc(error)).append("</p>");
        }
        b.append("<p>Run <a href=\"/ui/runs/").append(esc(a.runId())).append("\">").append(esc(a.runId())).append("</a>")
                .append(run == null ? "" : " of pipeline <b>" + esc(run.pipeline()) + "</b>, submitted by <b>" + esc(run.submittedBy()) + "</b>")
                .append(". Task <code>").append(esc(a.taskId())).append("</code> waits for ").append(a.requiredApprovals())
                .append(" approval(s). State: ").append(Html.stateBadge(a.state())).append("</p>");
        List<ApprovalDecision> made = approvals.decisions(a.id());
        if (!made.isEmpty()) {
            b.append("<h2>Decisions</h2><table><tr><th>reviewer</th><th>decision</th><th>comment</th><th>when</th></tr>");
            for (ApprovalDecision d : made) {
                b.append("<tr><td>").append(esc(d.reviewer())).append("</td><td>").append(esc(d.decision())).append("</td><td>")
                        .append(esc(d.comment())).append("</td><td>").append(esc(d.decidedAt())).append("</td></tr>");
            }
            b.append("</table>");
        }
        if (a.state().equals("pending")) {
            b.append(decisionForms(a, who));
        }
        b.append(dag(run, tasks));
        Optional<Map<String, Object>> gate = evidence.report(tasks, "gate", "gate_report");
        Optional<Map<String, Object>> validation = evidence.report(tasks, "validate", "report");
        b.append(gateTable(gate));
        b.append(sideBySide(validation));
        validation.ifPresent(v -> b.append(Charts.latency(v, json)).append(Charts.confusion(v, json)).append(Charts.SCRIPT));
        validation.ifPresent(v -> b.append(lineageOf(v)));
        return Html.page("Approval " + a.id(), who.principal(), b.toString(), false);
    }

    private static String decisionForms(Approval a, Caller who) {
        StringBuilder b = new StringBuilder("<h2>Decide</h2>");
        boolean reviewer = who.has(Role.REVIEWER);
        boolean ownRun = who.principal().equals(a.requestedBy());
        if (!reviewer) {
            b.append("<p class=\"notice\" data-testid=\"not-reviewer\">You are signed in as <b>").append(esc(who.principal()))
                    .append("</b> without the reviewer role, so you cannot decide this approval.</p>");
        } else if (ownRun) {
            b.append("<p class=\"notice\" data-testid=\"four-eyes\">You submitted this run, so you may not approve it "
                    + "(four-eyes rule); another reviewer must. You may still reject it.</p>");
        }
        String id = esc(enc(a.id()));
        b.append("<div class=\"cols\"><form method=\"post\" action=\"/ui/approvals/").append(id).append("/approve\">")
                .append("<p><label for=\"approve-comment\">Comment (optional)</label><br>")
                .append("<textarea id=\"approve-comment\" name=\"comment\" rows=\"3\"></textarea></p>")
                .append("<p><button type=\"submit\" data-testid=\"approve\">Approve</button></p></form>")
                .append("<form method=\"post\" action=\"/ui/approvals/").append(id).append("/reject\">")
                .append("<p><label for=\"reject-comment\">Why reject? (required)</label><br>")
                .append("<textarea id=\"reject-comment\" name=\"comment\" rows=\"3\" required></textarea></p>")
                .append("<p><button type=\"submit\" data-testid=\"reject\">Reject</button></p></form></div>");
        return b.toString();
    }

    /** The run's DAG as an SVG (layers by depth, coloured by state) and, for screen readers and copying, a table. */
    private String dag(PipelineRun run, Map<String, TaskRun> tasks) {
        Map<String, List<String>> upstream = new LinkedHashMap<>();
        if (run != null && run.pipelineVersion() != null) {
            pipelines.find(run.pipeline(), run.pipelineVersion()).ifPresent(v -> {
                try {
                    PipelineSpec spec = SpecLoader.load(v.spec(), OperatorRegistry.builtIns(), Set.of());
                    for (TaskSpec t : spec.tasks().values()) {
                        upstream.put(t.id(), t.upstream());
                    }
                } catch (Exception e) {
                    // an old spec that no longer validates: fall back to the recorded tasks
                }
            });
        }
        if (upstream.isEmpty()) {
            tasks.keySet().forEach(t -> upstream.put(t, List.of()));
        }
        Map<String, Integer> depth = new LinkedHashMap<>();
        for (String t : upstream.keySet()) {
            depthOf(t, upstream, depth, 0);
        }
        Map<Integer, Integer> rows = new LinkedHashMap<>();
        Map<String, int[]> at = new LinkedHashMap<>();
        for (String t : upstream.keySet()) {
            int d = depth.get(t);
            int row = rows.merge(d, 1, Integer::sum) - 1;
            at.put(t, new int[] {10 + d * 180, 10 + row * 56});
        }
        int width = at.values().stream().mapToInt(p -> p[0]).max().orElse(0) + 170;
        int height = at.values().stream().mapToInt(p -> p[1]).max().orElse(0) + 50;
        StringBuilder svg = new StringBuilder("<h2>Pipeline run</h2><svg role=\"img\" aria-label=\"task graph of the run\" width=\"")
                .append(width).append("\" height=\"").append(height).append("\">");
        upstream.forEach((t, ups) -> ups.forEach(u -> {
            int[] from = at.get(u);
            int[] to = at.get(t);
            if (from != null && to != null) {
                svg.append("<line x1=\"").append(from[0] + 150).append("\" y1=\"").append(from[1] + 20).append("\" x2=\"")
                        .append(to[0]).append("\" y2=\"").append(to[1] + 20).append("\" stroke=\"#6b7280\"/>");
            }
        }));
        StringBuilder table = new StringBuilder("<table data-testid=\"tasks\"><tr><th>task</th><th>operator</th><th>upstream</th>"
                + "<th>attempt</th><th>state</th><th>error</th></tr>");
        upstream.forEach((t, ups) -> {
            TaskRun r = tasks.get(t);
            String state = r == null ? "queued" : r.status();
            int[] p = at.get(t);
            svg.append("<g><rect x=\"").append(p[0]).append("\" y=\"").append(p[1]).append("\" width=\"150\" height=\"40\" rx=\"6\" fill=\"")
                    .append(fill(state)).append("\" stroke=\"#374151\"/><text x=\"").append(p[0] + 8).append("\" y=\"").append(p[1] + 17)
                    .append("\">").append(esc(t)).append("</text><text x=\"").append(p[0] + 8).append("\" y=\"").append(p[1] + 33)
                    .append("\">").append(esc(state)).append("</text></g>");
            table.append("<tr><td>").append(esc(t)).append("</td><td>").append(esc(r == null ? "" : r.operator())).append("</td><td>")
                    .append(esc(String.join(", ", ups))).append("</td><td class=\"n\">").append(r == null ? "" : r.attempt())
                    .append("</td><td>").append(Html.stateBadge(state)).append("</td><td><pre>").append(esc(r == null ? null : r.error()))
                    .append("</pre></td></tr>");
        });
        return svg.append("</svg>").append(table).append("</table>").toString();
    }

    private static int depthOf(String t, Map<String, List<String>> upstream, Map<String, Integer> depth, int guard) {
        Integer known = depth.get(t);
        if (known != null) {
            return known;
        }
        int d = 0;
        if (guard < 200) {
            for (String u : upstream.getOrDefault(t, List.of())) {
                if (upstream.containsKey(u)) {
                    d = Math.max(d, depthOf(u, upstream, depth, guard + 1) + 1);
                }
            }
        }
        depth.put(t, d);
        return d;
    }

    private static String fill(String state) {
        return switch (state) {
            case "success" -> "#dcfce7";
            case "failed", "upstream_failed" -> "#fee2e2";
            case "running", "queued", "up_for_retry" -> "#fef9c3";
            default -> "#e5e7eb";
        };
    }

    @SuppressWarnings("unchecked")
    private static String gateTable(Optional<Map<String, Object>> gate) {
        if (gate.isEmpty()) {
            return "<h2>Gate report</h2><p>This run has no gate report.</p>";
        }
        StringBuilder b = new StringBuilder("<h2>Gate report</h2><table data-testid=\"gate\"><tr><th>rule</th><th>value</th>"
                + "<th>threshold</th><th>result</th><th>note</th></tr>");
        for (Map<String, Object> r : (List<Map<String, Object>>) gate.get().getOrDefault("rules", List.of())) {
            boolean passed = Boolean.TRUE.equals(r.get("passed"));
            b.append("<tr><td>").append(esc(r.get("rule"))).append("</td><td class=\"n\">").append(num(r.get("value")))
                    .append("</td><td>").append(esc(r.get("threshold"))).append("</td><td><span class=\"badge ")
                    .append(passed ? "pass\">pass" : "fail\">fail").append("</span></td><td>").append(esc(r.get("note")))
                    .append("</td></tr>");
        }
        return b.append("</table>").toString();
    }

    /** Candidate against production (and the input model) with the differences marked in words and colour. */
    @SuppressWarnings("unchecked")
    private static String sideBySide(Optional<Map<String, Object>> validation) {
        if (validation.isEmpty()) {
            return "<h2>Candidate against production</h2><p>This run has no validation report.</p>";
        }
        Map<String, Object> v = validation.get();
        Map<String, Object> cand = (Map<String, Object>) v.getOrDefault("candidate", Map.of());
        Map<String, Object> refs = (Map<String, Object>) v.getOrDefault("references", Map.of());
        StringBuilder b = new StringBuilder("<h2>Candidate against production</h2>");
        List<String> names = new ArrayList<>();
        refs.forEach((name, ref) -> {
            Map<String, Object> m = (Map<String, Object>) ref;
            if (Boolean.TRUE.equals(m.get("missing"))) {
                b.append("<p class=\"notice\">").append(esc(name)).append(": ").append(esc(m.get("note"))).append("</p>");
            } else {
                names.add(name);
            }
        });
        b.append("<table data-testid=\"side-by-side\"><tr><th>metric</th><th>candidate</th>");
        names.forEach(n -> b.append("<th>").append(esc(n)).append("</th><th>candidate − ").append(esc(n)).append("</th>"));
        b.append("</tr>");
        Object[][] rows = {
                {"top-1 accuracy", "accuracy", true}, {"top-k accuracy", "top_k_accuracy", true},
                {"p50 latency (ms)", "latency_ms.p50", false}, {"p95 latency (ms)", "latency_ms.p95", false},
                {"p99 latency (ms)", "latency_ms.p99", false}, {"throughput (samples/s)", "throughput_per_s", true},
                {"size (bytes)", "size_bytes", false}, {"session memory (bytes)", "session_memory_bytes", false}};
        for (Object[] row : rows) {
            Double c = number(cand, (String) row[1]);
            b.append("<tr><th scope=\"row\">").append(row[0]).append("</th><td class=\"n\">").append(num(c)).append("</td>");
            for (String n : names) {
                Double r = number((Map<String, Object>) refs.get(n), (String) row[1]);
                b.append("<td class=\"n\">").append(num(r)).append("</td>").append(diff(c, r, (Boolean) row[2]));
            }
            b.append("</tr>");
        }
        for (String n : names) {
            Map<String, Object> m = (Map<String, Object>) refs.get(n);
            b.append("<tr><th scope=\"row\">agreement / mean cosine with ").append(esc(n)).append("</th><td class=\"n\" colspan=\"")
                    .append(1 + 2 * names.size()).append("\">").append(num(m.get("agreement"))).append(" / ")
                    .append(num(m.get("mean_cosine"))).append("</td></tr>");
        }
        return b.append("</table>").toString();
    }

    private static String diff(Double c, Double r, boolean higherIsBetter) {
        if (c == null || r == null) {
            return "<td></td>";
        }
        double d = c - r;
        if (d == 0) {
            return "<td class=\"n\">same</td>";
        }
        boolean better = higherIsBetter ? d > 0 : d < 0;
        return "<td class=\"n " + (better ? "better" : "worse") + "\">" + (d > 0 ? "+" : "") + num(d) + " ("
                + (better ? "better" : "worse") + ")</td>";
    }

    @SuppressWarnings("unchecked")
    private String lineageOf(Map<String, Object> validation) {
        Map<String, Object> model = (Map<String, Object>) validation.getOrDefault("model", Map.of());
        if (!(model.get("sha256") instanceof String sha)) {
            return "";
        }
        Optional<LineageGraph> graph = lineage.ancestors(sha);
        StringBuilder b = new StringBuilder("<h2>Lineage of the candidate</h2><p>Candidate <code>").append(esc(sha)).append("</code></p>");
        if (graph.isEmpty() || graph.get().edges().isEmpty()) {
            return b.append("<p>No recorded ancestors (uploaded directly).</p>").toString();
        }
        b.append("<table data-testid=\"lineage\"><tr><th>from</th><th>relation</th><th>role</th><th>to</th></tr>");
        for (LineageGraph.Edge e : graph.get().edges()) {
            b.append("<tr><td><code>").append(esc(shortId(e.from()))).append("</code></td><td>").append(esc(e.relation().name().toLowerCase()))
                    .append("</td><td>").append(esc(e.role())).append("</td><td><code>").append(esc(shortId(e.to()))).append("</code></td></tr>");
        }
        return b.append("</table>").toString();
    }

    /** Artifacts by a short sha256, task runs as such (lineage node ids are one or the other). */
    private static String shortId(String id) {
        if (id != null && id.length() == 64) {
            return id.substring(0, 12) + "…";
        }
        return id != null && id.chars().allMatch(Character::isDigit) ? "task run " + id : id;
    }

    @GET
    @Path("/runs")
    public Response runsPage() {
        Optional<Caller> who = caller.get();
        if (who.isEmpty()) {
            return toLogin();
        }
        StringBuilder b = new StringBuilder("<table data-testid=\"runs\"><tr><th>run</th><th>pipeline</th><th>submitted by</th>"
                + "<th>created</th><th>status</th><th>error</th></tr>");
        for (PipelineRun r : runs.list(null, null, 100, 0)) {
            b.append("<tr><td><a href=\"/ui/runs/").append(esc(r.id())).append("\">").append(esc(r.id())).append("</a></td><td>")
                    .append(esc(r.pipeline())).append("</td><td>").append(esc(r.submittedBy())).append("</td><td>")
                    .append(esc(r.createdAt())).append("</td><td>").append(Html.stateBadge(r.status())).append("</td><td>")
                    .append(esc(r.error())).append("</td></tr>");
        }
        return ok(Html.page("Runs", who.get().principal(), b.append("</table>").toString(), false));
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
            return Response.status(404).entity(Html.page("Run not found", who.get().principal(),
                    "<p class=\"error\">No run with id <code>" + esc(id) + "</code>.</p>", false)).build();
        }
        PipelineRun r = run.get();
        StringBuilder b = new StringBuilder("<p>Pipeline <b>").append(esc(r.pipeline())).append("</b>, submitted by <b>")
                .append(esc(r.submittedBy())).append("</b>. Status: <span data-testid=\"run-status\">").append(Html.stateBadge(r.status()))
                .append("</span>").append(r.isTerminal() ? "" : " (this page refreshes every 5 s)").append("</p>");
        if (r.error() != null) {
            b.append("<pre class=\"error\">").append(esc(r.error())).append("</pre>");
        }
        for (Approval a : approvals.listByRun(id)) {
            b.append("<p>Approval <a href=\"/ui/approvals/").append(esc(a.id())).append("\">").append(esc(a.id())).append("</a> ")
                    .append(Html.stateBadge(a.state())).append("</p>");
        }
        b.append(dag(r, Evidence.latestAttempts(taskRuns.listByRun(id))));
        return ok(Html.page("Run " + id, who.get().principal(), b.toString(), !r.isTerminal()));
    }

    @GET
    @Path("/models")
    public Response modelsPage() {
        Optional<Caller> who = caller.get();
        if (who.isEmpty()) {
            return toLogin();
        }
        StringBuilder b = new StringBuilder();
        List<Model> models = registry.listModels();
        if (models.isEmpty()) {
            b.append("<p>No registered models yet.</p>");
        }
        for (Model m : models) {
            Map<Integer, List<String>> aliases = new LinkedHashMap<>();
            for (ModelAlias alias : registry.listAliases(m.name())) {
                aliases.computeIfAbsent(alias.version(), k -> new ArrayList<>()).add(alias.alias());
            }
            b.append("<h2>").append(esc(m.name())).append("</h2><p>").append(esc(m.description())).append("</p>")
                    .append("<table><tr><th>version</th><th>artifact</th><th>aliases</th><th>registered</th></tr>");
            for (ModelVersion v : registry.listVersions(m.name())) {
                b.append("<tr><td class=\"n\">").append(v.version()).append("</td><td><code>").append(esc(shortId(v.artifactSha256())))
                        .append("</code></td><td>").append(esc(String.join(", ", aliases.getOrDefault(v.version(), List.of()))))
                        .append("</td><td>").append(esc(v.createdAt())).append("</td></tr>");
            }
            b.append("</table>");
        }
        return ok(Html.page("Models", who.get().principal(), b.toString(), false));
    }

    private static Double number(Map<String, Object> doc, String path) {
        Object at = doc;
        for (String part : path.split("\\.")) {
            if (!(at instanceof Map<?, ?> m)) {
                return null;
            }
            at = m.get(part);
        }
        return at instanceof Number n ? n.doubleValue() : null;
    }

    private static Response ok(String html) {
        return Response.ok(html).build();
    }

    private static Response toLogin() {
        return Response.seeOther(URI.create("/ui/login")).build();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
