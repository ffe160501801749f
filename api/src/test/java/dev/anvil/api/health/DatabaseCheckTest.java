package dev.anvil.api.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.devstack.Ports;
import dev.anvil.devstack.PostgresServer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The readiness check against a PostgreSQL server of its own, which the test stops: the shared test
 * stack must stay up for every other test in this JVM.
 */
class DatabaseCheckTest {
    @TempDir
    Path home;

    private PostgresServer server;

    @AfterEach
    void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    // a hanging check is the failure this guards against: readiness probes must answer
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void upWhilePostgresAnswersAndDownWithTheErrorOnceItStops() {
        server = PostgresServer.start("127.0.0.1", Ports.ephemeral(), home.resolve("pg"));
        server.ensureDatabase("health_check", "anvil", "anvil");
        DatabaseCheck check = new DatabaseCheck(dataSource(server.jdbcUrl("health_check")));

        HealthCheckResponse up = check.call();
        assertThat(up.getName()).isEqualTo("postgresql");
        assertThat(up.getStatus()).isEqualTo(HealthCheckResponse.Status.UP);

        server.close();
        server = null;

        HealthCheckResponse down = check.call();
        assertThat(down.getName()).isEqualTo("postgresql");
        assertThat(down.getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
        assertThat(down.getData()).hasValueSatisfying(data ->
                assertThat(data).hasEntrySatisfying("error", error -> assertThat(error.toString()).isNotBlank()));
    }

    private static PGSimpleDataSource dataSource(String url) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url);
        ds.setUser("anvil");
        ds.setPassword("anvil");
        // seconds; a stopped or unreachable server must fail the check, not stall it
        ds.setConnectTimeout(2);
        ds.setSocketTimeout(2);
        ds.setLoginTimeout(2);
        return ds;
    }
}
