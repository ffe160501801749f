package dev.anvil.api.health;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;

/** PostgreSQL answers a query within two seconds. A plain class so tests can aim it at a server they stop. */
public class DatabaseCheck implements HealthCheck {
    private final DataSource dataSource;

    public DatabaseCheck(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public HealthCheckResponse call() {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.setQueryTimeout(2);
            s.execute("SELECT 1");
            return HealthCheckResponse.named("postgresql").up().build();
        } catch (SQLException e) {
            return HealthCheckResponse.named("postgresql").down().withData("error", e.getMessage()).build();
        }
    }
}
