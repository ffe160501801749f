package dev.anvil.api.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.cli.AnvilCli;
import dev.anvil.cli.CliContext;
import dev.anvil.devstack.SharedData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's quick-start CLI lines (login, artifacts push, pipelines apply and trigger, runs watch and get,
 * artifacts lineage and pull, datasets import) against the real application on the local stack.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class CliQuickStartTest {
    record Result(int code, String out, String err) {}

    @TestHTTPResource("/")
    URL url;

    @TempDir
    Path home;

    Result anvil(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CliContext ctx = new CliContext(Map.of(), home, new PrintWriter(out, true), new PrintWriter(err, true), false);
        int code = new AnvilCli(ctx).execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void theReadmesQuickStartRunsThroughTheCli() throws Exception {
        String server = url.toString().replaceAll("/$", "");
        Result login = anvil("login", "--server", server, "--token", TestTokens.ADMIN);
        assertThat(login.code()).as(login.err()).isZero();
        assertThat(login.out()).contains("as demo-admin");

        Result push = anvil("artifacts", "push", SharedData.cnnMnist().toString(), "--media-type", "application/onnx", "-q");
        assertThat(push.code()).as(push.err()).isZero();
        String sha = push.out().trim();
        assertThat(sha).isEqualTo("81602d5ede13305af0974c2d0659e2c861cacc0cb50bde550c1663c796352e08");

        Result inspect = anvil("models", "inspect", sha);
        assertThat(inspect.code()).as(inspect.err()).isZero();
        assertThat(inspect.out()).contains("success").contains("21842").contains("input_image");

        Path spec = Files.writeString(home.resolve("digits.yaml"), """
                pipeline: cli-quickstart
                description: inspect the digit classifier, wait a moment, report
                params: {model: none}
                tasks:
                  inspect: {operator: inspect, with: {model: "${params.model}"}}
                  pause:   {operator: sleep, upstream: [inspect], with: {seconds: 1}}
                  report:  {operator: noop, upstream: [pause], trigger_rule: all_done}
                """);
        Result apply = anvil("pipelines", "apply", "-f", spec.toString());
        assertThat(apply.code()).as(apply.err()).isZero();
        assertThat(apply.out()).contains("cli-quickstart");

        Result trigger = anvil("pipelines", "trigger", "cli-quickstart", "--param", "model=" + sha, "-q");
        assertThat(trigger.code()).as(trigger.err()).isZero();
        String run = trigger.out().trim();
        assertThat(run).startsWith("cli-quickstart-");

        Result watch = anvil("runs", "watch", run, "--interval", "0.5");
        assertThat(watch.code()).as(watch.out() + watch.err()).isZero();
        assertThat(watch.out()).contains("inspect success").contains("report success").contains("ended success");

        Result get = anvil("runs", "get", run, "--output", "json");
        assertThat(get.code()).isZero();
        assertThat(get.out()).contains("\"status\" : \"success\"");

        Result list = anvil("runs", "list", "--pipeline", "cli-quickstart", "--status", "success", "--limit", "20");
        assertThat(list.out()).contains(run);

        Result logs = anvil("runs", "logs", run, "inspect");
        assertThat(logs.code()).as(logs.err()).isZero();

        Result lineage = anvil("artifacts", "lineage", sha);
        assertThat(lineage.code()).as(lineage.err()).isZero();
        assertThat(lineage.out()).contains("descendants:").contains("inspect");

        Path pulled = home.resolve("model.onnx");
        Result pull = anvil("artifacts", "pull", sha, "-o", pulled.toString());
        assertThat(pull.code()).as(pull.err()).isZero();
        assertThat(Files.mismatch(pulled, SharedData.cnnMnist())).isEqualTo(-1L);

        Result dataset = anvil("datasets", "import", "csv", SharedData.file("sklearn/iris.csv").toString(),
                "--name", "cli-iris", "--input", "float_input");
        assertThat(dataset.code()).as(dataset.err()).isZero();
        assertThat(dataset.out()).contains("dataset:cli-iris@");

        Result missing = anvil("runs", "get", "no-such-run");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("404").contains("no-such-run");

        Result badToken = anvil("login", "--server", server, "--token", "not-a-token");
        assertThat(badToken.code()).isEqualTo(1);
        assertThat(badToken.err()).contains("401");
    }
}
