package dev.anvil.devstack;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One local stack per test JVM, on ephemeral ports in a temporary directory, started on first use and
 * stopped (and its directory deleted) when the JVM exits. Tests get isolation by asking for a
 * {@link #freshDatabase fresh database} and their own bucket, not a stack each: PostgreSQL start-up
 * costs seconds.
 */
public final class SharedLocalStack {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static LocalStack stack;
    private static Path home;
    /** Set once the JVM is shutting down: a late caller must not start a stack nobody will stop. */
    private static boolean stopped;

    private SharedLocalStack() {}

    public static synchronized LocalStack get() {
        if (stopped) {
            throw new DevStackException("the shared test stack has been stopped: the JVM is shutting down");
        }
        if (stack == null) {
            try {
                home = Files.createTempDirectory("anvil-test-stack");
            } catch (IOException e) {
                throw new DevStackException("cannot create a temporary directory for the test stack: " + e.getMessage(), e);
            }
            stack = LocalStack.start(DevStackConfig.forTests(home));
            Runtime.getRuntime().addShutdownHook(new Thread(SharedLocalStack::stop, "test-stack-shutdown"));
        }
        return stack;
    }

    /**
     * Creates an empty database owned by the application's role ({@link DevStackConfig#dbUser()}) and
     * returns its JDBC URL: one role that migrates and uses it, as Anvil without owner credentials does.
     */
    public static String freshDatabase(String prefix) {
        return createDatabase(prefix, get().config().dbUser());
    }

    /**
     * Creates an empty database owned by the owner role ({@link DevStackConfig#dbOwnerUser()}), as the
     * local stack's own database is, and returns its JDBC URL: migrate it as the owner, naming the
     * application's role ({@link DevStackConfig#dbUser()}), and connect as the latter.
     */
    public static String freshDatabaseWithOwner(String prefix) {
        return createDatabase(prefix, get().config().dbOwnerUser());
    }

    private static String createDatabase(String prefix, String owner) {
        PostgresServer postgres = get().postgres().orElseThrow(() ->
                new DevStackException("the shared test stack has no embedded PostgreSQL"));
        String name = (prefix + "_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet())
                .toLowerCase().replaceAll("[^a-z0-9_]", "_");
        postgres.ensureDatabase(name, owner);
        return postgres.jdbcUrl(name);
    }

    private static synchronized void stop() {
        stopped = true;
        if (stack == null) {
            return;
        }
        try {
            stack.close();
        } finally {
            deleteQuietly(home);
            stack = null;
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // a leftover temporary directory is harmless; failing the JVM's exit over it is not
        }
    }
}
