package dev.anvil.devstack;

import java.io.Closeable;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Temporal dev server, S3 server and PostgreSQL in one process, started in that order and stopped in
 * reverse. Anvil reaches them over gRPC, S3 and JDBC exactly as in production; {@link #environment()}
 * gives the ANVIL_* variables that point Anvil at them.
 */
public final class LocalStack implements Closeable {
    private final DevStackConfig config;
    private final Deque<Closeable> started = new ArrayDeque<>();
    private TemporalDevServer temporal;
    private S3Server s3;
    private PostgresServer postgres;

    private LocalStack(DevStackConfig config) {
        this.config = config;
    }

    public static LocalStack start(DevStackConfig config) {
        LocalStack stack = new LocalStack(config);
        try {
            stack.startComponents();
            return stack;
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
    }

    private void startComponents() {
        if (config.externalTemporal().isEmpty()) {
            temporal = TemporalDevServer.start(config.host(), config.temporalPort());
            started.push(temporal);
        }
        if (config.externalS3().isEmpty()) {
            s3 = S3Server.start(config.host(), config.s3Port(), config.home().resolve("objects"),
                    config.s3AccessKey(), config.s3SecretKey());
            started.push(s3);
        }
        if (config.externalDb().isEmpty()) {
            postgres = PostgresServer.start(config.host(), config.postgresPort(), config.home().resolve("pg"));
            started.push(postgres);
            postgres.ensureRole(config.dbOwnerUser(), config.dbOwnerPassword());
            if (config.separateOwner()) {
                postgres.ensureRole(config.dbUser(), config.dbPassword());
            }
            postgres.ensureDatabase(config.database(), config.dbOwnerUser());
        }
    }

    public String temporalTarget() {
        return config.externalTemporal().orElseGet(() -> temporal.target());
    }

    public String s3Endpoint() {
        return config.externalS3().orElseGet(() -> s3.endpoint());
    }

    public String jdbcUrl() {
        return config.externalDb().orElseGet(() -> postgres.jdbcUrl(config.database()));
    }

    /** The Temporal dev server, when this stack started one (also reachable in-process). */
    public Optional<TemporalDevServer> temporalServer() {
        return Optional.ofNullable(temporal);
    }

    /** The embedded PostgreSQL server, when this stack started one. */
    public Optional<PostgresServer> postgres() {
        return Optional.ofNullable(postgres);
    }

    public DevStackConfig config() {
        return config;
    }

    /** The variables Anvil reads, pointing at this stack; they hold the database passwords. */
    public Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("ANVIL_TEMPORAL_TARGET", temporalTarget());
        env.put("ANVIL_TEMPORAL_NAMESPACE", "default");
        env.put("ANVIL_S3_ENDPOINT", s3Endpoint());
        env.put("ANVIL_S3_ACCESS_KEY", config.s3AccessKey());
        env.put("ANVIL_S3_SECRET_KEY", config.s3SecretKey());
        env.put("ANVIL_S3_BUCKET", config.s3Bucket());
        env.put("ANVIL_DB_URL", jdbcUrl());
        env.put("ANVIL_DB_USER", config.dbUser());
        env.put("ANVIL_DB_PASSWORD", config.dbPassword());
        if (config.separateOwner()) {
            // Anvil runs its migrations as the owner and grants ANVIL_DB_USER only what it needs
            env.put("ANVIL_DB_OWNER_USER", config.dbOwnerUser());
            env.put("ANVIL_DB_OWNER_PASSWORD", config.dbOwnerPassword());
        }
        return env;
    }

    /** Stops what was started, newest first; one component failing to stop does not keep the others running. */
    @Override
    public synchronized void close() {
        DevStackException failure = null;
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (RuntimeException | java.io.IOException e) {
                if (failure == null) {
                    failure = new DevStackException("the local stack did not stop cleanly: " + e.getMessage(), e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
