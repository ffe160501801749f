package dev.anvil.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import dev.anvil.devstack.SharedLocalStack;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The one place tests get a PostgreSQL database from. Each call makes a new database with a
 * unique name, so tests never see each other's rows; all of them are dropped when the JVM exits.
 *
 * <p>By default the server is the embedded PostgreSQL of the shared local stack
 * ({@link SharedLocalStack}), started by the tests themselves, so a fresh machine needs nothing
 * running. {@code -Danvil.test.pgUrl=jdbc:postgresql://host:port/} points the tests at another
 * server instead (user postgres, trust auth).
 */
public final class TestPostgres {

    private static final String USER = "postgres";

    private static final List<String> created = new ArrayList<>();
    private static String migratedTemplate;

    static {
        // The embedded server is deleted whole when the JVM exits; only an external one needs its
        // test databases dropped.
        if (externalUrl() != null) {
            Runtime.getRuntime().addShutdownHook(new Thread(TestPostgres::dropCreated, "drop-test-databases"));
        }
    }

    private TestPostgres() {
    }

    /** A brand-new, empty database. */
    public static DataSource freshDatabase() {
        return createDatabase("template0");
    }

    /**
     * A brand-new database with every migration applied. Cloned from a template migrated once per
     * JVM, which is much faster than running Flyway for every test.
     */
    public static synchronized DataSource migratedDatabase() {
        if (migratedTemplate == null) {
            DataSource template = freshDatabase();
            Migrations.migrate(template);
            migratedTemplate = ((PGSimpleDataSource) template).getDatabaseName();
        }
        return createDatabase(migratedTemplate);
    }

    private static synchronized DataSource createDatabase(String template) {
        String name = "anvil_test_" + UUID.randomUUID().toString().replace("-", "");
        admin("CREATE DATABASE " + name + " TEMPLATE " + template);
        created.add(name);
        return dataSource(name);
    }

    private static PGSimpleDataSource dataSource(String database) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(baseUrl() + database);
        ds.setUser(USER);
        return ds;
    }

    private static String externalUrl() {
        String url = System.getProperty("anvil.test.pgUrl");
        return url == null || url.isBlank() ? null : url;
    }

    private static String baseUrl() {
        String url = externalUrl();
        if (url == null) {
            int port = SharedLocalStack.get().postgres()
                    .orElseThrow(() -> new IllegalStateException("the shared test stack has no embedded PostgreSQL"))
                    .port();
            url = "jdbc:postgresql://127.0.0.1:" + port + "/";
        }
        return url.endsWith("/") ? url : url + "/";
    }

    private static void admin(String sql) {
        try (Connection c = dataSource("postgres").getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("test PostgreSQL at " + baseUrl() + " refused: " + sql
                    + " (start it, or point -Danvil.test.pgUrl at one)", e);
        }
    }

    private static synchronized void dropCreated() {
        for (String name : created) {
            try {
                admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            } catch (IllegalStateException e) {
                // Best effort at exit: a leftover test database is harmless.
            }
        }
    }
}
