package dev.anvil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI against a stub server that asserts what it is sent: method, path, bearer token, body. */
class CliTest {
    static final String TOKEN = "tok-123";

    @TempDir Path home;
    StubServer stub;
    CliRunner cli;

    @BeforeEach
    void start() throws IOException {
        stub = new StubServer();
        cli = new CliRunner(home).server(stub.url(), TOKEN);
    }

    @AfterEach
    void stop() {
        stub.close();
    }

    // --- login and configuration ---

    @Test
    void loginChecksTheTokenAndKeepsItInAPrivateConfig() throws IOException {
        stub.on("GET /api/me", 200, "{\"principal\":\"demo-admin\",\"roles\":[\"admin\"]}");
        CliRunner fresh = new CliRunner(home);

        CliRunner.Result r = fresh.run("login", "--server", stub.url() + "/", "--token", "secret-1");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("logged in to " + stub.url() + " as demo-admin");
        assertThat(stub.last().header("Authorization")).isEqualTo("Bearer secret-1");
        Path config = home.resolve(".anvil/config");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(config))).isEqualTo("rw-------");
        assertThat(Files.readString(config)).contains("token=secret-1").contains("server=http\\://127.0.0.1");

        stub.on("GET /api/pipelines", 200, "[]");
        assertThat(fresh.run("pipelines", "list").code()).isZero();
        assertThat(stub.last().header("Authorization")).isEqualTo("Bearer secret-1");
    }

    @Test
    void loginWithARefusedTokenKeepsNothing() {
        stub.on("GET /api/me", 401, "{\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"unknown or revoked token\"}");

        CliRunner.Result r = new CliRunner(home).run("login", "--server", stub.url(), "--token", "bad");

        assertThat(r.code()).isEqualTo(ExitCodes.REFUSED);
        assertThat(r.err()).contains("401 Unauthorized: unknown or revoked token");
        assertThat(home.resolve(".anvil/config")).doesNotExist();
    }

    @Test
    void environmentOverridesTheConfigFile() {
        CliConfig.save(new CliContext(java.util.Map.of(), home, null, null, false), "http://127.0.0.1:1", "stored");
        stub.on("GET /api/pipelines", 200, "[]");

        CliRunner.Result r = cli.run("pipelines", "list");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(stub.last().header("Authorization")).isEqualTo("Bearer " + TOKEN);
    }

    @Test
    void aConfigOthersCanReadIsRefusedWithTheFix() throws IOException {
        CliRunner fromConfig = new CliRunner(home);
        Path config = CliConfig.save(new CliContext(java.util.Map.of(), home, null, null, false), stub.url(), "t");
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));

        CliRunner.Result r = fromConfig.run("runs", "list");

        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("chmod 600 " + config);
        assertThat(stub.requests).isEmpty();
    }

    @Test
    void noTokenAnywhereIsAUsageErrorThatSaysHowToLogIn() {
        CliRunner.Result r = new CliRunner(home).run("runs", "list");

        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("anvil login");
    }

    // --- usage errors and failures ---

    @Test
    void unknownCommandOrFlagIsExit2WithUsage() {
        CliRunner.Result cmd = cli.run("pipelines", "frobnicate");
        assertThat(cmd.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(cmd.err()).contains("Unmatched argument").contains("Usage: anvil pipelines");

        CliRunner.Result flag = cli.run("runs", "list", "--colour");
        assertThat(flag.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(flag.err()).contains("Unknown option: '--colour'").contains("Usage: anvil runs list");

        CliRunner.Result group = cli.run("runs");
        assertThat(group.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(group.err()).contains("needs a subcommand");
        assertThat(stub.requests).isEmpty();
    }

    @Test
    void serverDownIsExit3NamingTheUrl() {
        CliRunner.Result r = new CliRunner(home).server("http://127.0.0.1:1", TOKEN).run("runs", "list");

        assertThat(r.code()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).contains("cannot reach Anvil at http://127.0.0.1:1");
    }

    @Test
    void refusalsAreExit1WithTheProblemDetail() {
        stub.on("GET /api/runs/nope", 404, "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,"
                + "\"detail\":\"no run with id 'nope'\"}");
        stub.on("POST /api/pipelines/p/runs", 403, "{\"title\":\"Forbidden\",\"status\":403,"
                + "\"detail\":\"the caller lacks the role submitter\"}");
        stub.on("PUT /api/pipelines/bad", 422, "{\"title\":\"Unprocessable Entity\",\"status\":422,\"detail\":\"invalid spec\","
                + "\"errors\":[{\"field\":\"tasks.a.operator\",\"message\":\"unknown operator 'x'\"}]}");

        CliRunner.Result notFound = cli.run("runs", "get", "nope");
        assertThat(notFound.code()).isEqualTo(ExitCodes.REFUSED);
        assertThat(notFound.err()).isEqualTo("anvil: 404 Not Found: no run with id 'nope'\n");

        CliRunner.Result forbidden = cli.run("pipelines", "trigger", "p");
        assertThat(forbidden.code()).isEqualTo(ExitCodes.REFUSED);
        assertThat(forbidden.err()).contains("403 Forbidden: the caller lacks the role submitter");
    }

    @Test
    void anInvalidSpecListsEveryFieldError() throws IOException {
        stub.on("PUT /api/pipelines/bad", 422, "{\"title\":\"Unprocessable Entity\",\"status\":422,\"detail\":\"invalid spec\","
                + "\"errors\":[{\"field\":\"tasks.a.operator\",\"message\":\"unknown operator 'x'\"}]}");
        Path spec = Files.writeString(home.resolve("bad.yaml"), "pipeline: bad\ntasks:\n  a: {operator: x}\n");

        CliRunner.Result r = cli.run("pipelines", "apply", "-f", spec.toString());

        assertThat(r.code()).isEqualTo(ExitCodes.REFUSED);
        assertThat(r.err()).contains("422 Unprocessable Entity: invalid spec").contains("tasks.a.operator: unknown operator 'x'");
    }

    // --- pipelines ---

    @Test
    void applyPutsTheSpecUnderItsName() throws IOException {
        String yaml = "pipeline: digits-check\ntasks:\n  report: {operator: noop}\n";
        Path spec = Files.writeString(home.resolve("digits.yaml"), yaml);
        stub.on("PUT /api/pipelines/digits-check", 201, "{\"name\":\"digits-check\",\"version\":1,\"paused\":false}");

        CliRunner.Result r = cli.run("pipelines", "apply", "-f", spec.toString());

        assertThat(r.code()).as(r.err()).isZero();
        StubServer.Request req = stub.last();
        assertThat(req.method()).isEqualTo("PUT");
        assertThat(req.uri()).isEqualTo("/api/pipelines/digits-check");
        assertThat(req.header("Content-Type")).isEqualTo("application/yaml");
        assertThat(req.header("Authorization")).isEqualTo("Bearer " + TOKEN);
        assertThat(req.text()).isEqualTo(yaml);
        assertThat(r.out()).contains("name:").contains("digits-check").contains("version:").contains("1");
    }

    @Test
    void applyWithoutANameIsAUsageError() throws IOException {
        Path spec = Files.writeString(home.resolve("anon.yaml"), "tasks: {}\n");

        CliRunner.Result r = cli.run("pipelines", "apply", "-f", spec.toString());

        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("no 'pipeline:' name").contains("--name");
    }

    @Test
    void triggerSendsParamsTypedAsJsonWhereTheyLookLikeIt() {
        stub.on("POST /api/pipelines/digits-check/runs", 201, "{\"run\":\"digits-check-1\",\"status\":\"queued\"}");

        CliRunner.Result r = cli.run("pipelines", "trigger", "digits-check", "--param", "model=abc", "-p", "n=3",
                "-p", "flag=true", "--no-cache", "-q");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("digits-check-1\n");
        assertThat(stub.last().header("Content-Type")).isEqualTo("application/json");
        assertThat(stub.last().text()).isEqualTo("{\"params\":{\"model\":\"abc\",\"n\":3,\"flag\":true},\"cache\":false}");
    }

    @Test
    void triggerAndRetrySayWhenTheRunWaitsForASlot() {
        stub.on("POST /api/pipelines/retrain/runs", 201, "{\"run\":\"retrain-2\",\"status\":\"queued\","
                + "\"waiting\":\"max_active_runs 1 reached; the run starts when an active run of 'retrain' ends\"}");
        CliRunner.Result r = cli.run("pipelines", "trigger", "retrain");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("run retrain-2 queued (max_active_runs 1 reached; the run starts when an active"
                + " run of 'retrain' ends)\n");

        stub.on("POST /api/runs/retrain-1/retry", 202, "{\"run\":\"retrain-1\",\"status\":\"queued\","
                + "\"waiting\":\"max_active_runs 1 reached; the retry starts when an active run of 'retrain' ends\"}");
        CliRunner.Result retried = cli.run("runs", "retry", "retrain-1");
        assertThat(retried.code()).as(retried.err()).isZero();
        assertThat(retried.out()).isEqualTo("run retrain-1 queued (max_active_runs 1 reached; the retry starts when an"
                + " active run of 'retrain' ends)\n");
    }

    @Test
    void runsListShowsWhyAQueuedRunWaits() {
        stub.on("GET /api/runs", 200, "[{\"id\":\"r-2\",\"pipeline\":\"retrain\",\"status\":\"queued\","
                + "\"submittedBy\":\"bo\",\"createdAt\":\"2026-12-07T09:00:00Z\",\"finishedAt\":null,"
                + "\"waiting\":\"waiting for a slot (max_active_runs 1)\"},{\"id\":\"r-1\",\"pipeline\":\"retrain\","
                + "\"status\":\"running\",\"submittedBy\":\"bo\",\"createdAt\":\"2026-12-07T08:59:00Z\","
                + "\"finishedAt\":null,\"waiting\":null}]");
        CliRunner.Result r = cli.run("runs", "list");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("WAITING").contains("waiting for a slot (max_active_runs 1)");
        assertThat(r.out().lines().filter(l -> l.startsWith("r-1")).findFirst().orElseThrow()).endsWith("-");
    }

    @Test
    void pauseUnpauseAndListHitTheirEndpoints() {
        stub.on("POST /api/pipelines/p/pause", 200, "{\"name\":\"p\",\"paused\":true}");
        stub.on("POST /api/pipelines/p/unpause", 200, "{\"name\":\"p\",\"paused\":false}");
        stub.on("GET /api/pipelines", 200, "[{\"name\":\"p\",\"version\":2,\"paused\":false,\"registeredBy\":\"demo-admin\","
                + "\"registeredAt\":\"2026-01-01T00:00:00Z\",\"spec\":\"...\"}]");

        assertThat(cli.run("pipelines", "pause", "p").out()).isEqualTo("pipeline p paused\n");
        assertThat(stub.last().method()).isEqualTo("POST");
        assertThat(cli.run("pipelines", "unpause", "p").out()).isEqualTo("pipeline p unpaused\n");
        CliRunner.Result list = cli.run("pipelines", "list");
        assertThat(list.out()).isEqualTo("""
                NAME  VERSION  PAUSED  REGISTERED_BY  REGISTERED_AT
                p     2        false   demo-admin     2026-01-01T00:00:00Z
                """);
    }

    @Test
    void backfillPostsTheRangeAndCancelDeletesIt() {
        stub.on("POST /api/pipelines/p/backfill", 202, "{\"pipeline\":\"p\",\"runs\":6}");
        stub.on("DELETE /api/pipelines/p/backfill", 200, "{\"pipeline\":\"p\",\"dropped\":4}");

        assertThat(cli.run("pipelines", "backfill", "p", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-07T00:00:00Z")
                .code()).isZero();
        assertThat(stub.last().text()).contains("\"from\":\"2026-01-01T00:00:00Z\"").contains("\"to\":\"2026-01-07T00:00:00Z\"");
        assertThat(cli.run("pipelines", "backfill", "p", "--cancel").out()).contains("dropped");
        assertThat(stub.last().method()).isEqualTo("DELETE");
        assertThat(cli.run("pipelines", "backfill", "p").code()).isEqualTo(ExitCodes.USAGE);
    }

    // --- runs ---

    @Test
    void runsListPassesFiltersAndRendersEachFormat() {
        String runs = "[{\"id\":\"r1\",\"pipeline\":\"p\",\"status\":\"success\",\"submittedBy\":\"a\","
                + "\"createdAt\":\"t0\",\"finishedAt\":null}]";
        stub.on("GET /api/runs", 200, runs);

        CliRunner.Result table = cli.run("runs", "list", "--pipeline", "p", "--status", "success", "--limit", "10");
        assertThat(stub.last().uri()).isEqualTo("/api/runs?pipeline=p&status=success&limit=10&page=0");
        assertThat(table.out()).isEqualTo("""
                ID  PIPELINE  STATUS   SUBMITTED_BY  CREATED_AT  FINISHED_AT  WAITING
                r1  p         success  a             t0          -            -
                """);

        CliRunner.Result json = cli.run("runs", "list", "--output", "json");
        assertThat(json.out()).contains("\"id\" : \"r1\"").contains("\"finishedAt\" : null");

        CliRunner.Result yaml = cli.run("runs", "list", "--output", "yaml");
        assertThat(yaml.out()).startsWith("- id: r1\n").contains("  status: success\n");
    }

    @Test
    void runsGetShowsTheRunAndItsTaskAttempts() {
        stub.on("GET /api/runs/r1", 200, runJson("failed", "[" + task("inspect", 1, "up_for_retry", "boom")
                + "," + task("inspect", 2, "failed", "boom again") + "]"));

        CliRunner.Result r = cli.run("runs", "get", "r1");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("status:").contains("failed")
                .contains("TASK_ID  ATTEMPT").contains("up_for_retry").contains("boom again");
    }

    static final String WAITING = "waits for a slot: max_active_runs 1 of pipeline 'p' reached when it was queued;"
            + " it starts when an active run ends";

    @Test
    void runsGetSaysWhyAQueuedRunWaitsBesideItsStatus() {
        stub.on("GET /api/runs/r1", 200, waitingRunJson("queued", "[]", "\"" + WAITING + "\""));

        CliRunner.Result r = cli.run("runs", "get", "r1");

        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).containsSequence("status:          queued", "waiting:         " + WAITING);
        assertThat(cli.run("runs", "get", "r1", "--output", "json").out()).contains("\"waiting\" : \"waits for a slot");
    }

    @Test
    void runsGetShowsNoWaitingLineForARunThatDoesNotWait() {
        stub.on("GET /api/runs/r1", 200, waitingRunJson("queued", "[]", "null"));
        stub.on("GET /api/runs/r2", 200, waitingRunJson("running", "[]", "\"\""));
        stub.on("GET /api/runs/r3", 200, waitingRunJson("queued", "[]", "{\"unexpected\":1}"));

        for (String run : List.of("r1", "r2", "r3")) {
            CliRunner.Result r = cli.run("runs", "get", run);
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).as(run).contains("status:").doesNotContain("waiting");
        }
    }

    @Test
    void watchSaysOnceWhyARunWaitsAndWhenItsWaitEnds() {
        stub.on("GET /api/runs/r1", 200, waitingRunJson("queued", "[]", "\"" + WAITING + "\""));
        stub.on("GET /api/runs/r1", 200, waitingRunJson("queued", "[]", "\"" + WAITING + "\""));
        stub.on("GET /api/runs/r1", 200, waitingRunJson("queued", "[]", "null"));
        stub.on("GET /api/runs/r1", 200, waitingRunJson("running", "[" + task("a", 1, "running", null) + "]", "null"));
        stub.on("GET /api/runs/r1", 200, waitingRunJson("success", "[" + task("a", 1, "success", null) + "]", "null"));

        CliRunner.Result r = cli.run("runs", "watch", "r1", "--interval", "0.01");

        assertThat(r.code()).as(r.err()).isZero();
        List<String> events = r.out().lines().map(l -> l.replaceFirst("^\\d\\d:\\d\\d:\\d\\d  ", "")).toList();
        assertThat(events).containsExactly("run r1 queued: " + WAITING, "run r1 queued: no longer waiting, a slot freed",
                "run r1 running", "a running (attempt 1)", "a success (attempt 1)", "run r1 success",
                "run r1 ended success");
        assertThat(stub.requests).hasSize(5);
    }

    @Test
    void watchOfAWaitingRunThatIsCancelledEndsWith4() {
        stub.on("GET /api/runs/r1", 200, waitingRunJson("queued", "[]", "\"" + WAITING + "\""));
        stub.on("GET /api/runs/r1", 200, waitingRunJson("cancelled", "[]", "null"));

        CliRunner.Result r = cli.run("runs", "watch", "r1", "--interval", "0.01");

        assertThat(r.code()).isEqualTo(ExitCodes.RUN_FAILED);
        List<String> events = r.out().lines().map(l -> l.replaceFirst("^\\d\\d:\\d\\d:\\d\\d  ", "")).toList();
        assertThat(events).containsExactly("run r1 queued: " + WAITING, "run r1 cancelled", "run r1 ended cancelled");
    }

    @Test
    void watchOnATerminalShowsTheWaitUnderTheRunWhileItLasts() {
        stub.on("GET /api/runs/r1", 200, waitingRunJson("queued", "[]", "\"" + WAITING + "\""));
        stub.on("GET /api/runs/r1", 200, waitingRunJson("success", "[" + task("a", 1, "success", null) + "]", "null"));
        cli.tty = true;

        CliRunner.Result r = cli.run("runs", "watch", "r1", "--interval", "0.01");

        assertThat(r.code()).as(r.err()).isZero();
        String[] drawings = r.out().split("\033\\[\\d+A", -1);
        assertThat(drawings).hasSize(2);
        assertThat(drawings[0]).contains("run r1  queued").contains("\033[2K" + WAITING + "\n");
        assertThat(drawings[1]).contains("run r1  success").doesNotContain("waits for a slot");
    }

    @Test
    void watchPrintsALinePerChangeOffATerminalAndExits4WhenTheRunFails() {
        stub.on("GET /api/runs/r1", 200, runJson("running", "[" + task("inspect", 1, "running", null) + "]"));
        stub.on("GET /api/runs/r1", 200, runJson("running", "[" + task("inspect", 1, "running", null) + "]"));
        stub.on("GET /api/runs/r1", 200, runJson("failed", "[" + task("inspect", 1, "failed", "bad model\nstack") + "]"));

        CliRunner.Result r = cli.run("runs", "watch", "r1", "--interval", "0.01");

        assertThat(r.code()).isEqualTo(ExitCodes.RUN_FAILED);
        assertThat(r.out().lines().filter(l -> l.contains("inspect running")).count()).isEqualTo(1);
        assertThat(r.out()).contains("inspect failed (attempt 1): bad model\n").contains("run r1 ended failed")
                .doesNotContain("\033[");
        assertThat(stub.requests).hasSize(3);
    }

    @Test
    void watchPrintsTheRunsEndAfterTheTaskChangesSeenWithIt() {
        stub.on("GET /api/runs/r1", 200, runJson("running", "[" + task("a", 1, "running", null) + "]"));
        stub.on("GET /api/runs/r1", 200, runJson("success", "[" + task("a", 1, "success", null) + ","
                + task("b", 1, "success", null) + "]"));

        CliRunner.Result r = cli.run("runs", "watch", "r1", "--interval", "0.01");

        assertThat(r.code()).as(r.err()).isZero();
        List<String> events = r.out().lines().map(l -> l.replaceFirst("^\\d\\d:\\d\\d:\\d\\d  ", "")).toList();
        assertThat(events).containsExactly("run r1 running", "a running (attempt 1)", "a success (attempt 1)",
                "b success (attempt 1)", "run r1 success", "run r1 ended success");
    }

    @Test
    void watchRedrawsInPlaceOnATerminalAndExits0OnSuccess() {
        stub.on("GET /api/runs/r1", 200, runJson("running", "[" + task("a", 1, "running", null) + "]"));
        stub.on("GET /api/runs/r1", 200, runJson("success", "[" + task("a", 1, "success", null) + "]"));
        cli.tty = true;

        CliRunner.Result r = cli.run("runs", "watch", "r1", "--interval", "0.01");

        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("\033[2K").contains("\033[3A").contains("run r1 ended success");
    }

    @Test
    void triggerWithWatchFollowsTheNewRun() {
        stub.on("POST /api/pipelines/p/runs", 201, "{\"run\":\"p-1\",\"status\":\"queued\"}");
        stub.on("GET /api/runs/p-1", 200, runJson("success", "[]"));

        CliRunner.Result r = cli.run("pipelines", "trigger", "p", "--watch", "--interval", "0.01");

        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("run p-1 queued\n").contains("run p-1 ended success");
    }

    @Test
    void cancelAndRetrySendWhatTheServerExpects() {
        stub.on("POST /api/runs/r1/cancel", 202, "{\"run\":\"r1\",\"status\":\"cancelling\"}");
        stub.on("POST /api/runs/r1/retry", 202, "{\"run\":\"r1\",\"status\":\"queued\"}");

        assertThat(cli.run("runs", "cancel", "r1").out()).isEqualTo("run r1 cancelling\n");
        assertThat(cli.run("runs", "retry", "r1", "--from", "inspect").code()).isZero();
        assertThat(stub.last().text()).isEqualTo("{\"from\":\"inspect\"}");
        cli.run("runs", "retry", "r1");
        assertThat(stub.last().text()).isEqualTo("{}");
    }

    @Test
    void logsReadTheLatestAttemptThroughTheAirflowApi() {
        stub.on("GET /api/runs/r1", 200, "{\"run\":{\"id\":\"r1\",\"pipeline\":\"p\",\"status\":\"success\"},\"tasks\":["
                + task("a", 1, "up_for_retry", "x") + "," + task("a", 2, "success", null) + "]}");
        stub.on("GET /api/v2/dags/p/dagRuns/r1/taskInstances/a/logs/2", 200,
                "{\"content\":[{\"timestamp\":\"t1\",\"event\":\"started\",\"level\":\"info\"}],\"continuation_token\":null}");

        CliRunner.Result r = cli.run("runs", "logs", "r1", "a");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("t1 info started\n");
    }

    @Test
    void logsFollowPrintsNewLinesUntilTheAttemptEnds() {
        String running = "{\"run\":{\"id\":\"r1\",\"pipeline\":\"p\",\"status\":\"running\"},\"tasks\":["
                + task("a", 1, "running", null) + "]}";
        stub.on("GET /api/runs/r1", 200, running);
        stub.on("GET /api/runs/r1", 200, running);
        stub.on("GET /api/runs/r1", 200, "{\"run\":{\"id\":\"r1\",\"pipeline\":\"p\",\"status\":\"success\"},"
                + "\"tasks\":[" + task("a", 1, "success", null) + "]}");
        String logs = "/api/v2/dags/p/dagRuns/r1/taskInstances/a/logs/1";
        stub.on("GET " + logs, 200, "{\"content\":[{\"timestamp\":\"t1\",\"event\":\"one\"}]}");
        stub.on("GET " + logs, 200, "{\"content\":[{\"timestamp\":\"t1\",\"event\":\"one\"},{\"timestamp\":\"t2\",\"event\":\"two\"}]}");

        CliRunner.Result r = cli.run("runs", "logs", "r1", "a", "-f", "--interval", "0.01");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("t1 one\nt2 two\n");
    }

    // --- artifacts ---

    @Test
    void pushStreamsTheFileAndChecksTheServersSha256() throws Exception {
        byte[] bytes = "model bytes".repeat(1000).getBytes(StandardCharsets.UTF_8);
        Path file = Files.write(home.resolve("m.onnx"), bytes);
        String sha = sha256(bytes);
        stub.on("POST /api/artifacts", 201, "{\"artifact\":{\"sha256\":\"" + sha + "\",\"size\":" + bytes.length
                + "},\"created\":true}");

        CliRunner.Result r = cli.run("artifacts", "push", file.toString(), "--media-type", "application/onnx", "-q");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(sha + "\n");
        StubServer.Request req = stub.last();
        assertThat(req.uri()).isEqualTo("/api/artifacts?mediaType=application%2Fonnx");
        assertThat(req.header("Content-Type")).isEqualTo("application/octet-stream");
        assertThat(req.header("Content-Length")).isEqualTo(String.valueOf(bytes.length));
        assertThat(req.body()).isEqualTo(bytes);
    }

    @Test
    void pushDrawsAProgressBarOnATerminal() throws Exception {
        byte[] bytes = new byte[200_000];
        Path file = Files.write(home.resolve("big.bin"), bytes);
        stub.on("POST /api/artifacts", 201, "{\"artifact\":{\"sha256\":\"" + sha256(bytes) + "\"},\"created\":false}");
        cli.tty = true;

        CliRunner.Result r = cli.run("artifacts", "push", file.toString());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("big.bin [").contains("100% 195.3 KiB / 195.3 KiB");
        assertThat(r.out()).contains("already stored");
    }

    @Test
    void pushRefusesAnAnswerWithAnotherSha256() throws Exception {
        Path file = Files.writeString(home.resolve("m.bin"), "abc");
        stub.on("POST /api/artifacts", 201, "{\"artifact\":{\"sha256\":\"" + "0".repeat(64) + "\"},\"created\":true}");

        CliRunner.Result r = cli.run("artifacts", "push", file.toString());

        assertThat(r.code()).isEqualTo(ExitCodes.REFUSED);
        assertThat(r.err()).contains("hashed to " + sha256("abc".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void pullWritesTheFileOnlyWhenItsSha256Matches() throws Exception {
        byte[] bytes = "weights".getBytes(StandardCharsets.UTF_8);
        String sha = sha256(bytes);
        stub.on("GET /api/artifacts/" + sha, 200, "{\"sha256\":\"" + sha + "\",\"size\":7}");
        stub.on("GET /api/artifacts/" + sha + "/content", new StubServer.Reply(200, "application/octet-stream", bytes));
        Path target = home.resolve("out/model.onnx");

        CliRunner.Result ok = cli.run("artifacts", "pull", sha, "-o", target.toString());
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(target).hasBinaryContent(bytes);

        String other = "1".repeat(64);
        stub.on("GET /api/artifacts/" + other, 200, "{\"sha256\":\"" + other + "\",\"size\":7}");
        stub.on("GET /api/artifacts/" + other + "/content", new StubServer.Reply(200, "application/octet-stream", bytes));
        Path bad = home.resolve("out/bad.onnx");
        CliRunner.Result corrupt = cli.run("artifacts", "pull", other, "-o", bad.toString());
        assertThat(corrupt.code()).isEqualTo(ExitCodes.REFUSED);
        assertThat(bad).doesNotExist();
        try (var left = Files.list(home.resolve("out"))) {
            assertThat(left).containsExactly(target);
        }
    }

    @Test
    void lineageShowsNodesAndEdges() {
        String sha = "a".repeat(64);
        stub.on("GET /api/artifacts/" + sha + "/lineage", 200, "{\"artifact\":\"" + sha + "\",\"ancestors\":{\"nodes\":[],"
                + "\"edges\":[],\"truncated\":false},\"descendants\":{\"nodes\":[{\"kind\":\"taskRun\",\"id\":\"7\",\"depth\":1,"
                + "\"run\":\"r1\",\"task\":\"inspect\"}],\"edges\":[{\"from\":\"7\",\"to\":\"" + sha + "\",\"relation\":\"used\","
                + "\"role\":\"model\"}],\"truncated\":false}}");

        CliRunner.Result r = cli.run("artifacts", "lineage", sha);

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("ancestors:\n  (none)").contains("7 --used(model)--> " + sha).contains("inspect");
    }

    // --- the rest ---

    @Test
    void datasetImportSendsTheFileAndTheImporterOptions() throws IOException {
        Path csv = Files.writeString(home.resolve("iris.csv"), "a,b\n1,2\n");
        stub.on("POST /api/datasets", 201, "{\"name\":\"iris\",\"version\":1,\"reference\":\"dataset:iris@1\"}");

        CliRunner.Result r = cli.run("datasets", "import", "csv", csv.toString(), "--name", "iris", "--input",
                "float_input", "--declare", "x:float32[4]", "--set", "header=true");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(stub.last().uri()).isEqualTo("/api/datasets?name=iris&format=csv&input=float_input&header=true"
                + "&declare=x%3Afloat32%5B4%5D");
        assertThat(stub.last().text()).isEqualTo("a,b\n1,2\n");
        assertThat(r.out()).contains("dataset:iris@1");
        assertThat(cli.run("datasets", "import", "parquet", csv.toString(), "--name", "x").code()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void approvalsTokensEndpointsAndRolloutsMapToTheirEndpoints() {
        stub.on("POST /api/approvals/ap1/approve", 200, "{\"id\":\"ap1\",\"state\":\"approved\"}");
        stub.on("POST /api/approvals/ap1/reject", 200, "{\"id\":\"ap1\",\"state\":\"rejected\"}");
        stub.on("POST /api/tokens", 201, "{\"token\":\"new-token\",\"principal\":\"ci\"}");
        stub.on("DELETE /api/tokens/abc", 200, "{\"id\":\"abc\",\"active\":false}");
        stub.on("GET /api/endpoints", 200, "[{\"name\":\"digits\",\"model\":\"m\",\"stable\":{\"version\":1,\"artifact\":\"s\"},"
                + "\"canary\":null,\"public\":false}]");
        stub.on("POST /api/rollouts/ro1/pause", 200, "{\"state\":\"paused\",\"weight\":5}");
        stub.on("POST /api/rollouts", 201, "{\"rollout\":\"ro2\",\"endpoint\":\"digits\",\"state\":\"running\"}");

        assertThat(cli.run("approvals", "approve", "ap1", "-m", "looks right").code()).isZero();
        assertThat(stub.last().text()).isEqualTo("{\"comment\":\"looks right\"}");
        assertThat(cli.run("approvals", "reject", "ap1").out()).contains("rejected");

        assertThat(cli.run("tokens", "create", "--principal", "ci", "--role", "submitter,viewer", "-q").out())
                .isEqualTo("new-token\n");
        assertThat(stub.last().text()).isEqualTo("{\"principal\":\"ci\",\"roles\":[\"submitter\",\"viewer\"]}");
        assertThat(cli.run("tokens", "revoke", "abc").code()).isZero();
        assertThat(stub.last().method()).isEqualTo("DELETE");

        assertThat(cli.run("endpoints", "list").out()).contains("digits").contains("STABLE_VERSION");

        assertThat(cli.run("rollouts", "pause", "ro1", "--reason", "alarm").out()).contains("paused");
        assertThat(stub.last().text()).isEqualTo("{\"reason\":\"alarm\"}");
        assertThat(cli.run("rollouts", "start", "--endpoint", "digits", "--model", "m", "--steps", "5,50,100",
                "--max-error-rate", "0.01").code()).isZero();
        assertThat(stub.last().text()).isEqualTo("{\"endpoint\":\"digits\",\"model\":\"m\",\"steps\":[5,50,100],"
                + "\"analysis\":{\"max_error_rate\":0.01}}");
        assertThat(cli.run("rollouts", "start", "--endpoint", "digits").code()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void modelsInspectPostsTheArtifactAndShowsTheReport() {
        stub.on("POST /api/models/inspect", 200, "{\"run\":\"inspect-1\",\"status\":\"success\",\"report\":{\"irVersion\":4,"
                + "\"opsets\":{\"\":9},\"parameterCount\":21842,\"inputs\":[{\"name\":\"input_image\",\"elementType\":\"FLOAT\","
                + "\"shape\":[\"batch\",\"1\",\"28\",\"28\"]}],\"outputs\":[],\"warnings\":[]}}");

        CliRunner.Result r = cli.run("models", "inspect", "abc");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(stub.last().text()).isEqualTo("{\"artifact\":\"abc\"}");
        assertThat(r.out()).contains("parameterCount:").contains("21842").contains("input_image  FLOAT");
    }

    @Test
    void rolloutsListPassesFiltersAndPagesAndRendersEachFormat() {
        String rollouts = "[{\"id\":\"ro2\",\"endpoint\":\"digits\",\"model\":\"digits\",\"stableVersion\":null,"
                + "\"candidateVersion\":1,\"state\":\"promoted\",\"weight\":100,\"analysisJson\":{\"verdict\":\"pass\"},"
                + "\"startedAt\":\"t1\",\"finishedAt\":\"t2\",\"reason\":\"every step passed\"}]";
        stub.on("GET /api/rollouts", 200, rollouts);
        stub.on("GET /api/rollouts", 200, rollouts);
        stub.on("GET /api/rollouts", 400, "{\"title\":\"Bad Request\",\"status\":400,"
                + "\"detail\":\"unknown rollout state 'exploded'\",\"errors\":[{\"field\":\"state\"}]}");

        CliRunner.Result table = cli.run("rollouts", "list", "--endpoint", "digits & co", "--state", "promoted",
                "--limit", "5", "--page", "2");
        assertThat(table.code()).as(table.err()).isZero();
        assertThat(stub.last().method()).isEqualTo("GET");
        assertThat(stub.last().uri()).isEqualTo("/api/rollouts?endpoint=digits+%26+co&state=promoted&limit=5&page=2");
        assertThat(stub.last().header("Authorization")).isEqualTo("Bearer " + TOKEN);
        assertThat(table.out()).isEqualTo("""
                ID   ENDPOINT  MODEL   STABLE_VERSION  CANDIDATE_VERSION  STATE     WEIGHT  STARTED_AT  FINISHED_AT
                ro2  digits    digits  -               1                  promoted  100     t1          t2
                """);

        CliRunner.Result json = cli.run("rollouts", "list", "--output", "json");
        assertThat(stub.last().uri()).isEqualTo("/api/rollouts?limit=50&page=0");
        assertThat(json.out()).contains("\"id\" : \"ro2\"").contains("\"verdict\" : \"pass\"");

        CliRunner.Result refused = cli.run("rollouts", "list", "--state", "exploded");
        assertThat(refused.code()).isNotZero();
        assertThat(refused.err()).contains("unknown rollout state 'exploded'");
    }

    @Test
    void endpointsListHeadsTheStableAndCanaryColumnsApart() {
        stub.on("GET /api/endpoints", 200, "[{\"name\":\"digits\",\"model\":\"m\",\"stable\":{\"version\":1,"
                + "\"artifact\":\"s1\"},\"canary\":{\"version\":2,\"artifact\":\"s2\",\"weight\":5},\"public\":false,"
                + "\"updatedAt\":\"t1\"},{\"name\":\"iris\",\"model\":\"i\",\"stable\":{\"version\":3,\"artifact\":\"s3\"},"
                + "\"canary\":null,\"public\":true,\"updatedAt\":\"t2\"}]");

        CliRunner.Result r = cli.run("endpoints", "list");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("""
                NAME    MODEL  STABLE_VERSION  STABLE_ARTIFACT  CANARY_VERSION  CANARY_WEIGHT  PUBLIC  UPDATED_AT
                digits  m      1               s1               2               5              false   t1
                iris    i      3               s3               -               -              true    t2
                """);
    }

    @Test
    void rolloutsWatchCountsStepsFromOneAsTheUiDoes() {
        // the API's live.step is the index of the current weight in steps: 0 for the first of three
        stub.on("GET /api/rollouts/ro1", 200, "{\"rollout\":{\"id\":\"ro1\",\"state\":\"running\"},"
                + "\"live\":{\"state\":\"running\",\"weight\":5,\"step\":0,\"steps\":3}}");
        stub.on("GET /api/rollouts/ro1", 200, "{\"rollout\":{\"id\":\"ro1\",\"state\":\"running\"},"
                + "\"live\":{\"state\":\"running\",\"weight\":50,\"step\":1,\"steps\":3}}");
        stub.on("GET /api/rollouts/ro1", 200, "{\"rollout\":{\"id\":\"ro1\",\"state\":\"running\"},"
                + "\"live\":{\"state\":\"running\",\"weight\":100,\"step\":2,\"steps\":3}}");
        stub.on("GET /api/rollouts/ro1", 200, "{\"rollout\":{\"id\":\"ro1\",\"state\":\"rolled_back\"}}");

        CliRunner.Result r = cli.run("rollouts", "watch", "ro1", "--interval", "0.01");

        assertThat(r.code()).isEqualTo(ExitCodes.RUN_FAILED);
        assertThat(r.out()).contains("step 1/3  canary weight 5%").contains("step 2/3  canary weight 50%")
                .contains("step 3/3  canary weight 100%").doesNotContain("step 0/").doesNotContain("step 4/")
                .contains("rollout ro1 rolled_back");
    }

    @Test
    void rolloutsWatchShowsAPromotingRolloutAtItsLastStep() {
        // every step passed: while it promotes, the workflow's index is one past the last weight
        stub.on("GET /api/rollouts/ro1", 200, "{\"rollout\":{\"id\":\"ro1\",\"state\":\"running\"},"
                + "\"live\":{\"state\":\"promoting\",\"weight\":100,\"step\":3,\"steps\":3}}");
        stub.on("GET /api/rollouts/ro1", 200, "{\"rollout\":{\"id\":\"ro1\",\"state\":\"promoted\"}}");

        CliRunner.Result r = cli.run("rollouts", "watch", "ro1", "--interval", "0.01");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("rollout ro1 promoting  step 3/3  canary weight 100%").doesNotContain("step 4/")
                .contains("rollout ro1 promoted");
    }

    @Test
    void endpointsPutSendsTheVersionChoice() {
        stub.on("PUT /api/endpoints/digits", 201, "{\"name\":\"digits\",\"stable\":{\"version\":1}}");

        CliRunner.Result r = cli.run("endpoints", "put", "digits", "--artifact", "abc", "--no-public",
                "--break-glass", "first deployment");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(stub.last().text()).isEqualTo("{\"artifact\":\"abc\",\"public\":false,"
                + "\"break_glass\":{\"reason\":\"first deployment\"}}");
        assertThat(cli.run("endpoints", "put", "digits").code()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void endpointsDriftListsAPageOrShowsOneReport() {
        stub.on("GET /api/endpoints/digits/drift", 200, "[{\"id\":7,\"version\":2,\"referenceDataset\":\"digits-train\","
                + "\"referenceVersion\":1,\"drifted\":true,\"movedFeatures\":[\"x[3]\"],\"runId\":\"r9\"}]");
        stub.on("GET /api/endpoints/digits/drift/7", 200, "{\"id\":7,\"drifted\":true,\"reportJson\":{\"features\":[]}}");

        CliRunner.Result list = cli.run("endpoints", "drift", "digits", "--limit", "10", "--page", "2");
        assertThat(list.code()).as(list.err()).isZero();
        assertThat(stub.last().uri()).isEqualTo("/api/endpoints/digits/drift?limit=10&page=2");
        assertThat(list.out()).contains("digits-train").contains("r9");

        CliRunner.Result one = cli.run("endpoints", "drift", "digits", "--report", "7", "--output", "json");
        assertThat(one.code()).as(one.err()).isZero();
        assertThat(stub.last().uri()).isEqualTo("/api/endpoints/digits/drift/7");
        assertThat(one.out()).contains("\"reportJson\"");
        assertThat(cli.run("endpoints", "drift").code()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void completionPrintsABashScript() {
        CliRunner.Result r = cli.run("completion", "bash");

        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("complete -F _complete_anvil").contains("pipelines").contains("artifacts");
    }

    private static String runJson(String status, String tasks) {
        return "{\"run\":{\"id\":\"r1\",\"pipeline\":\"p\",\"status\":\"" + status + "\"},\"tasks\":" + tasks + "}";
    }

    private static String waitingRunJson(String status, String tasks, String waiting) {
        return "{\"run\":{\"id\":\"r1\",\"pipeline\":\"p\",\"status\":\"" + status + "\"},\"tasks\":" + tasks
                + ",\"waiting\":" + waiting + "}";
    }

    private static String task(String id, int attempt, String status, String error) {
        return "{\"taskId\":\"" + id + "\",\"attempt\":" + attempt + ",\"status\":\"" + status + "\",\"error\":"
                + (error == null ? "null" : "\"" + error.replace("\n", "\\n") + "\"") + "}";
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
