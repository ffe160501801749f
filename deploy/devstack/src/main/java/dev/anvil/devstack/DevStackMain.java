package dev.anvil.devstack;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * {@code java -jar anvil-devstack.jar}: starts the local stack, prints its endpoints, writes them to
 * {@code $ANVIL_HOME/devstack.env} for the launcher, and runs until SIGTERM or Ctrl-C.
 */
public final class DevStackMain {
    private DevStackMain() {}

    public static void main(String[] args) throws Exception {
        DevStackConfig config;
        LocalStack stack;
        try {
            config = DevStackConfig.fromEnvironment(System.getenv());
            System.out.println("anvil devstack: starting (data in " + config.home().toAbsolutePath() + ")");
            stack = LocalStack.start(config);
        } catch (DevStackException e) {
            System.err.println("anvil devstack: " + e.getMessage());
            System.exit(2);
            return;
        }
        Path envFile = config.home().resolve("devstack.env");
        writeEnvFile(envFile, stack.environment());

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("anvil devstack: stopping");
            try {
                stack.close();
                Files.deleteIfExists(envFile);
                System.out.println("anvil devstack: stopped");
            } catch (RuntimeException | IOException e) {
                System.err.println("anvil devstack: " + e.getMessage());
            } finally {
                stopped.countDown();
            }
        }, "devstack-shutdown"));

        System.out.println("anvil devstack: ready");
        System.out.println("  Temporal (gRPC)   " + stack.temporalTarget()
                + (config.externalTemporal().filter("embedded"::equalsIgnoreCase).isPresent()
                        ? "  (inside Anvil's own process)"
                        : config.externalTemporal().isPresent() ? "  (external)" : "  (in-memory dev server)"));
        System.out.println("  S3                " + stack.s3Endpoint()
                + (config.externalS3().isPresent() ? "  (external)" : "  (objects in " + config.home().resolve("objects") + ")"));
        System.out.println("  PostgreSQL (JDBC) " + stack.jdbcUrl()
                + (config.externalDb().isPresent() ? "  (external)" : "  (data in " + config.home().resolve("pg") + ")"));
        System.out.println("  variables for Anvil: " + envFile);
        stopped.await();
    }

    /** Readable by its owner only: it holds the database passwords. */
    static void writeEnvFile(Path file, Map<String, String> env) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        String body = env.entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining("\n", "", "\n"));
        Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rw-------");
        if (!Files.exists(file)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(ownerOnly));
        }
        Files.setPosixFilePermissions(file, ownerOnly);
        Files.writeString(file, body);
    }
}
