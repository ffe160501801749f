package dev.anvil.devstack;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * What the local stack starts and where. Each component starts unless an external one is configured
 * through the same variable Anvil itself reads (ANVIL_TEMPORAL_TARGET, ANVIL_S3_ENDPOINT, ANVIL_DB_URL).
 *
 * <p>The embedded PostgreSQL has two roles, as production should: {@code dbOwnerUser} owns the
 * database and runs the migrations, {@code dbUser} is what Anvil connects as and can neither change
 * tables nor rewrite the audit log. Their passwords are ANVIL_DB_OWNER_PASSWORD and ANVIL_DB_PASSWORD
 * when set, else generated into {@code $ANVIL_HOME/db-passwords} (mode 600). With an external
 * database the stack passes on what is set and invents nothing.
 */
public record DevStackConfig(
        Path home,
        String host,
        int temporalPort,
        int s3Port,
        int postgresPort,
        Optional<String> externalTemporal,
        Optional<String> externalS3,
        Optional<String> externalDb,
        String s3AccessKey,
        String s3SecretKey,
        String s3Bucket,
        String database,
        String dbUser,
        String dbPassword,
        String dbOwnerUser,
        String dbOwnerPassword) {

    public static final int DEFAULT_TEMPORAL_PORT = 7233;
    public static final int DEFAULT_S3_PORT = 9000;
    public static final int DEFAULT_POSTGRES_PORT = 15432;

    /** The role that owns the local database and runs migrations. */
    public static final String DEFAULT_OWNER_USER = "anvil";
    /** The role Anvil connects as. */
    public static final String DEFAULT_APP_USER = "anvil_app";

    public static DevStackConfig fromEnvironment(Map<String, String> env) {
        Path home = Path.of(env.getOrDefault("ANVIL_HOME", ".anvil"));
        Optional<String> externalDb = nonBlank(env.get("ANVIL_DB_URL"));
        String user;
        String password;
        String ownerUser;
        String ownerPassword;
        if (externalDb.isPresent()) {
            user = env.getOrDefault("ANVIL_DB_USER", "anvil");
            password = env.getOrDefault("ANVIL_DB_PASSWORD", "anvil");
            ownerUser = nonBlank(env.get("ANVIL_DB_OWNER_USER")).orElse(user);
            ownerPassword = nonBlank(env.get("ANVIL_DB_OWNER_PASSWORD")).orElse(password);
        } else {
            PasswordFile generated = new PasswordFile(home.resolve(PostgresServer.PASSWORDS_FILE));
            user = nonBlank(env.get("ANVIL_DB_USER")).orElse(DEFAULT_APP_USER);
            ownerUser = nonBlank(env.get("ANVIL_DB_OWNER_USER")).orElse(DEFAULT_OWNER_USER);
            password = nonBlank(env.get("ANVIL_DB_PASSWORD")).orElseGet(() -> generated.passwordFor(user));
            ownerPassword = nonBlank(env.get("ANVIL_DB_OWNER_PASSWORD")).orElseGet(() -> generated.passwordFor(ownerUser));
        }
        return new DevStackConfig(
                home,
                env.getOrDefault("ANVIL_DEVSTACK_HOST", "127.0.0.1"),
                port(env, "ANVIL_DEVSTACK_TEMPORAL_PORT", DEFAULT_TEMPORAL_PORT),
                port(env, "ANVIL_DEVSTACK_S3_PORT", DEFAULT_S3_PORT),
                port(env, "ANVIL_DEVSTACK_PG_PORT", DEFAULT_POSTGRES_PORT),
                nonBlank(env.get("ANVIL_TEMPORAL_TARGET")),
                nonBlank(env.get("ANVIL_S3_ENDPOINT")),
                externalDb,
                env.getOrDefault("ANVIL_S3_ACCESS_KEY", "anvil"),
                env.getOrDefault("ANVIL_S3_SECRET_KEY", "anvil-local-secret"),
                env.getOrDefault("ANVIL_S3_BUCKET", "anvil-artifacts"),
                "anvil",
                user,
                password,
                ownerUser,
                ownerPassword);
    }

    /** Everything on free ephemeral ports under {@code home}: for tests, which must not collide with a running stack. */
    public static DevStackConfig forTests(Path home) {
        PasswordFile generated = new PasswordFile(home.resolve(PostgresServer.PASSWORDS_FILE));
        return new DevStackConfig(home, "127.0.0.1", Ports.ephemeral(), Ports.ephemeral(), Ports.ephemeral(),
                Optional.empty(), Optional.empty(), Optional.empty(),
                "anvil", "anvil-test-secret", "anvil-artifacts", "anvil",
                DEFAULT_APP_USER, generated.passwordFor(DEFAULT_APP_USER),
                DEFAULT_OWNER_USER, generated.passwordFor(DEFAULT_OWNER_USER));
    }

    /** Whether migrations run as a role of their own, which the application's role is not. */
    public boolean separateOwner() {
        return !dbOwnerUser.equals(dbUser);
    }

    private static int port(Map<String, String> env, String name, int fallback) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            int port = Integer.parseInt(value.trim());
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new DevStackException(name + "='" + value + "' is not a port number (1-65535)");
        }
    }

    private static Optional<String> nonBlank(String value) {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }
}
