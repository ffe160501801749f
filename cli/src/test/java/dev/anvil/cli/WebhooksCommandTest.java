package dev.anvil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** anvil webhooks against a stub server that records what it is sent. */
class WebhooksCommandTest {
    @TempDir Path home;
    StubServer stub;
    CliRunner cli;

    @BeforeEach
    void start() throws IOException {
        stub = new StubServer();
        cli = new CliRunner(home).server(stub.url(), "tok-123");
    }

    @AfterEach
    void stop() {
        stub.close();
    }

    @Test
    void webhookCommandsMapToTheirEndpoints() {
        stub.on("POST /api/webhooks", 201, "{\"id\":\"wh_0123456789abcdef\",\"secret\":\"whsec_ab\"}");
        CliRunner.Result made = cli.run("webhooks", "create", "--url", "https://hooks.example/a",
                "--event", "rollout.promoted,rollout.rolled_back", "--description", "ops");
        assertThat(made.code()).as(made.err()).isZero();
        assertThat(made.out()).contains("whsec_ab");
        assertThat(stub.last().text()).isEqualTo("{\"url\":\"https://hooks.example/a\","
                + "\"events\":[\"rollout.promoted\",\"rollout.rolled_back\"],\"description\":\"ops\"}");

        stub.on("GET /api/webhooks", 200, "[{\"id\":\"wh_0123456789abcdef\",\"url\":\"https://hooks.example/a\","
                + "\"events\":[\"rollout.promoted\"]}]");
        assertThat(cli.run("webhooks", "list").out()).contains("wh_0123456789abcdef").contains("URL");

        stub.on("GET /api/webhooks/wh_0123456789abcdef/deliveries", 200, "[{\"id\":7,\"type\":\"rollout.promoted\","
                + "\"state\":\"delivered\",\"attempts\":[{\"attempt\":1,\"statusCode\":500,\"error\":\"the receiver answered 500\"},"
                + "{\"attempt\":2,\"statusCode\":204,\"error\":null}]}]");
        CliRunner.Result log = cli.run("webhooks", "deliveries", "wh_0123456789abcdef", "--limit", "5");
        assertThat(log.code()).as(log.err()).isZero();
        assertThat(stub.last().uri()).isEqualTo("/api/webhooks/wh_0123456789abcdef/deliveries?limit=5");
        assertThat(log.out()).contains("500").contains("204").contains("the receiver answered 500");

        stub.on("DELETE /api/webhooks/wh_0123456789abcdef", 204, "");
        assertThat(cli.run("webhooks", "delete", "wh_0123456789abcdef").out()).contains("deleted webhook");
        assertThat(stub.last().method()).isEqualTo("DELETE");
    }

    @Test
    void aRefusedUrlExitsRefusedWithTheServersReason() {
        stub.on("POST /api/webhooks", 400, "{\"title\":\"Bad request\",\"status\":400,"
                + "\"detail\":\"url scheme 'file' is not allowed: webhooks are delivered over http or https only\"}");
        CliRunner.Result r = cli.run("webhooks", "create", "--url", "file:///etc/passwd", "--event", "drift.detected");
        assertThat(r.code()).isEqualTo(ExitCodes.REFUSED);
        assertThat(r.err()).contains("url scheme 'file' is not allowed");
        assertThat(cli.run("webhooks", "create", "--url", "https://x/").code()).isEqualTo(ExitCodes.USAGE);
    }
}
