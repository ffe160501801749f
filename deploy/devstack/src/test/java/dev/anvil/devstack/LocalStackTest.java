package dev.anvil.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalStackTest {

    @TempDir
    Path home;

    @Test
    void startsAllThreeAndPostgresDataSurvivesARestart() throws Exception {
        DevStackConfig config = DevStackConfig.forTests(home);
        try (LocalStack stack = LocalStack.start(config)) {
            assertTemporalAnswers(stack.temporalTarget());
            assertS3Answers(stack.s3Endpoint());
            try (Connection c = DriverManager.getConnection(stack.jdbcUrl(), config.dbOwnerUser(), config.dbOwnerPassword());
                 Statement s = c.createStatement()) {
                s.execute("CREATE TABLE kept (v text)");
                s.execute("INSERT INTO kept VALUES ('still here')");
            }
        }
        try (LocalStack again = LocalStack.start(config);
             Connection c = DriverManager.getConnection(again.jdbcUrl(), config.dbOwnerUser(), config.dbOwnerPassword());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT v FROM kept")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("still here");
        }
        assertThat(home.resolve("objects")).isDirectory();
    }

    @Test
    void aTakenPortFailsWithAMessageNamingThePortAndTheVariable() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            DevStackConfig base = DevStackConfig.forTests(home);
            DevStackConfig clash = new DevStackConfig(base.home(), base.host(), base.temporalPort(), taken.getLocalPort(),
                    base.postgresPort(), Optional.empty(), Optional.empty(), Optional.empty(), base.s3AccessKey(),
                    base.s3SecretKey(), base.s3Bucket(), base.database(), base.dbUser(), base.dbPassword(),
                    base.dbOwnerUser(), base.dbOwnerPassword());
            assertThatThrownBy(() -> LocalStack.start(clash))
                    .isInstanceOf(DevStackException.class)
                    .hasMessageContaining("port " + taken.getLocalPort())
                    .hasMessageContaining("S3 server")
                    .hasMessageContaining("ANVIL_DEVSTACK_S3_PORT");
            // the Temporal server started before the clash was stopped again: its port is free
            Ports.requireFree(base.host(), base.temporalPort(), "Temporal dev server", "ANVIL_DEVSTACK_TEMPORAL_PORT");
        }
    }

    @Test
    void externallyConfiguredComponentsAreNotStarted() {
        DevStackConfig config = DevStackConfig.fromEnvironment(Map.of(
                "ANVIL_HOME", home.toString(),
                "ANVIL_TEMPORAL_TARGET", "temporal.example:7233",
                "ANVIL_S3_ENDPOINT", "http://minio.example:9000",
                "ANVIL_DB_URL", "jdbc:postgresql://db.example:5432/anvil"));
        try (LocalStack stack = LocalStack.start(config)) {
            assertThat(stack.environment())
                    .containsEntry("ANVIL_TEMPORAL_TARGET", "temporal.example:7233")
                    .containsEntry("ANVIL_S3_ENDPOINT", "http://minio.example:9000")
                    .containsEntry("ANVIL_DB_URL", "jdbc:postgresql://db.example:5432/anvil");
            assertThat(stack.postgres()).isEmpty();
        }
        assertThat(Files.exists(home.resolve("pg"))).isFalse();
    }

    @Test
    void aBadPortVariableIsNamed() {
        assertThatThrownBy(() -> DevStackConfig.fromEnvironment(Map.of("ANVIL_DEVSTACK_PG_PORT", "fifteen")))
                .hasMessageContaining("ANVIL_DEVSTACK_PG_PORT='fifteen' is not a port number");
    }

    @Test
    void envFileListsTheVariablesAnvilReadsForItsOwnerOnly() throws Exception {
        Path file = home.resolve("devstack.env");
        DevStackMain.writeEnvFile(file, Map.of("ANVIL_S3_BUCKET", "anvil-artifacts"));
        assertThat(Files.readString(file)).isEqualTo("ANVIL_S3_BUCKET=anvil-artifacts\n");
        // it holds the database passwords
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    private static void assertTemporalAnswers(String target) {
        WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget(target).build());
        try {
            assertThat(stubs.blockingStub().getSystemInfo(GetSystemInfoRequest.getDefaultInstance())).isNotNull();
        } finally {
            stubs.shutdownNow();
        }
    }

    private static void assertS3Answers(String endpoint) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(endpoint + "/")).GET().build(), HttpResponse.BodyHandlers.ofString());
        // anonymous requests are refused by an S3 server that checks signatures: proof it speaks S3
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(response.body()).contains("AccessDenied");
    }
}
