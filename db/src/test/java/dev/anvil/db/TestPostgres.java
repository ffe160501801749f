package dev.anvil.db;

import dev.anvil.devstack.DevStackConfig;
import dev.anvil.devstack.PostgresServer;
import dev.anvil.devstack.SharedLocalStack;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The one place tests get a PostgreSQL database from. Each call makes a new database with a
 * unique name, so tests never see each other's rows; all of them are dropped when the JVM exits.
 *
 * <p>Databases have two roles, as in production: an owner that owns the schema and runs the
 * migrations, and the application's role that the stores connect as ({@link #migratedDatabase()}),
 * which migrations grant rows but not the schema or the audit log's history ({@link #asOwner}).
 *
 * <p>By default the server is the embedded PostgreSQL of the shared local stack
 * ({@link SharedLocalStack}), started by the tests themselves, so a fresh machine needs nothing
 * running; its roles are the local stack's, with their generated passwords.
 * {@code -Danvil.test.pgUrl=jdbc:postgresql://host:port/} points the tests at another server instead,
 * as superuser {@code -Danvil.test.pgUser} (default postgres) with {@code -Danvil.test.pgPassword}
 * (default none); the two roles are made there as {@value #EXTERNAL_OWNER} and {@value #EXTERNAL_APP}.
 */
public final class TestPostgres {

    static final String EXTERNAL_OWNER = "anvil_test_owner";
    static final String EXTERNAL_APP = "anvil_test_app";
    private static final String EXTERNAL_PASSWORD = "anvil-test";

    private static final List<String> created = new ArrayList<>();
    private static String migratedTemplate;
    private static boolean externalRolesReady;

    static {
        // The embedded server is deleted whole when the JVM exits; only an external one needs its
        // test databases dropped.
        if (externalUrl() != null) {
            Runtime.getRuntime().addShutdownHook(new Thread(TestPostgres::dropCreated, "drop-test-databases"));
        }
    }

    private TestPostgres() {
    }

    /** A brand-new, empty database, connected as its owner (who may migrate it). */
    public static DataSource freshDatabase() {
        return dataSource(createDatabase("template0"), ownerUser(), ownerPassword());
    }

    /**
     * A brand-new database with every migration applied by the owner, connected as the
     * application's role. Cloned from a template migrated once per JVM, which is much faster than
     * running Flyway for every test.
     */
    public static synchronized DataSource migratedDatabase() {
        if (migratedTemplate == null) {
            PGSimpleDataSource template = (PGSimpleDataSource) freshDatabase();
            Migrations.migrate(template, appUser());
            migratedTemplate = template.getDatabaseName();
        }
        return dataSource(createDatabase(migratedTemplate), appUser(), appPassword());
    }

    /** The same database as {@code db}, connected as the owner role: what only migrations should use. */
    public static DataSource asOwner(DataSource db) {
        return dataSource(((PGSimpleDataSource) db).getDatabaseName(), ownerUser(), ownerPassword());
    }

    /** The same database as {@code db}, connected as the application's role. */
    public static DataSource asApp(DataSource db) {
        return dataSource(((PGSimpleDataSource) db).getDatabaseName(), appUser(), appPassword());
    }

    /** The role the stores connect as. */
    public static String appUser() {
        return externalUrl() == null ? config().dbUser() : EXTERNAL_APP;
    }

    private static String appPassword() {
        return externalUrl() == null ? config().dbPassword() : EXTERNAL_PASSWORD;
    }

    private static String ownerUser() {
        return externalUrl() == null ? config().dbOwnerUser() : EXTERNAL_OWNER;
    }

    private static String ownerPassword() {
        return externalUrl() == null ? config().dbOwnerPassword() : EXTERNAL_PASSWORD;
    }

    private static synchronized String createDatabase(String template) {
        String name = "anvil_test_" + UUID.randomUUID().toString().replace("-", "");
        if (externalUrl() != null) {
            ensureExternalRoles();
        }
        admin("CREATE DATABASE " + name + " OWNER " + ownerUser() + " TEMPLATE " + template);
        created.add(name);
        if ("template0".equals(template)) {
            // Only the schema's owner can keep other roles from creating objects in it (the grant
            // callback revokes that); a clone of the migrated template inherits this.
            try (Connection c = adminDataSource(name).getConnection(); Statement s = c.createStatement()) {
                s.execute("ALTER SCHEMA public OWNER TO " + ownerUser());
            } catch (SQLException e) {
                throw new IllegalStateException("cannot give the public schema of " + name + " to " + ownerUser(), e);
            }
        }
        return name;
    }

    private static PGSimpleDataSource dataSource(String database, String user, String password) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(baseUrl() + database);
        ds.setUser(user);
        ds.setPassword(password);
        return ds;
    }

    private static DevStackConfig config() {
        return SharedLocalStack.get().config();
    }

    private static PostgresServer embedded() {
        return SharedLocalStack.get().postgres()
                .orElseThrow(() -> new IllegalStateException("the shared test stack has no embedded PostgreSQL"));
    }

    private static String externalUrl() {
        String url = System.getProperty("anvil.test.pgUrl");
        return url == null || url.isBlank() ? null : url;
    }

    private static String externalAdminUser() {
        return System.getProperty("anvil.test.pgUser", "postgres");
    }

    private static String externalAdminPassword() {
        return System.getProperty("anvil.test.pgPassword");
    }

    private static String baseUrl() {
        String url = externalUrl();
        if (url == null) {
            url = "jdbc:postgresql://127.0.0.1:" + embedded().port() + "/";
        }
        return url.endsWith("/") ? url : url + "/";
    }

    /** Roles are shared by every database on a server; test JVMs running at once may race to make them. */
    private static void ensureExternalRoles() {
        if (externalRolesReady) {
            return;
        }
        for (String role : List.of(EXTERNAL_OWNER, EXTERNAL_APP)) {
            try {
                if (!roleExists(role)) {
                    admin("CREATE ROLE " + role + " LOGIN PASSWORD '" + EXTERNAL_PASSWORD + "'");
                }
            } catch (IllegalStateException e) {
                if (!roleExists(role)) {
                    throw e;
                }
            }
        }
        externalRolesReady = true;
    }

    private static boolean roleExists(String role) {
        try (Connection c = adminDataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + role + "'")) {
            return rs.next();
        } catch (SQLException e) {
            throw new IllegalStateException("test PostgreSQL at " + baseUrl() + " refused a role lookup", e);
        }
    }

    private static DataSource adminDataSource() {
        return adminDataSource("postgres");
    }

    private static DataSource adminDataSource(String database) {
        return externalUrl() == null
                ? embedded().adminDataSource(database)
                : dataSource(database, externalAdminUser(), externalAdminPassword());
    }

    private static void admin(String sql) {
        try (Connection c = adminDataSource().getConnection(); Statement s = c.createStatement()) {
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
