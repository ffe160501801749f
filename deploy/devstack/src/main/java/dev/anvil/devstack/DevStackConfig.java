package dev.anvil.devstack;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * What the local stack starts and where. Each component starts unless an external one is configured
 * through the same variable Anvil itself reads (ANVIL_TEMPORAL_TARGET, ANVIL_S3_ENDPOINT, ANVIL_DB_URL).
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
        String dbPassword) {

    public static final int DEFAULT_TEMPORAL_PORT = 7233;
    public static final int DEFAULT_S3_PORT = 9000;
    public static final int DEFAULT_POSTGRES_PORT = 15432;

    public static DevStackConfig fromEnvironment(Map<String, String> env) {
        return new DevStackConfig(
                Path.of(env.getOrDefault("ANVIL_HOME", ".anvil")),
                env.getOrDefault("ANVIL_DEVSTACK_HOST", "127.0.0.1"),
                port(env, "ANVIL_DEVSTACK_TEMPORAL_PORT", DEFAULT_TEMPORAL_PORT),
                port(env, "ANVIL_DEVSTACK_S3_PORT", DEFAULT_S3_PORT),
                port(env, "ANVIL_DEVSTACK_PG_PORT", DEFAULT_POSTGRES_PORT),
                nonBlank(env.get("ANVIL_TEMPORAL_TARGET")),
                nonBlank(env.get("ANVIL_S3_ENDPOINT")),
                nonBlank(env.get("ANVIL_DB_URL")),
                env.getOrDefault("ANVIL_S3_ACCESS_KEY", "anvil"),
                env.getOrDefault("ANVIL_S3_SECRET_KEY", "anvil-local-secret"),
                env.getOrDefault("ANVIL_S3_BUCKET", "anvil-artifacts"),
                "anvil",
                env.getOrDefault("ANVIL_DB_USER", "anvil"),
                env.getOrDefault("ANVIL_DB_PASSWORD", "anvil"));
    }

    /** Everything on free ephemeral ports under {@code home}: for tests, which must not collide with a running stack. */
    public static DevStackConfig forTests(Path home) {
        return new DevStackConfig(home, "127.0.0.1", Ports.ephemeral(), Ports.ephemeral(), Ports.ephemeral(),
                Optional.empty(), Optional.empty(), Optional.empty(),
                "anvil", "anvil-test-secret", "anvil-artifacts", "anvil", "anvil", "anvil");
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
