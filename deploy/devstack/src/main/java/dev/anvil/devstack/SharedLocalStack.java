package dev.anvil.devstack;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
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

    /** Creates an empty database on the shared PostgreSQL server and returns its JDBC URL (user and password as {@link DevStackConfig}). */
    public static String freshDatabase(String prefix) {
        LocalStack s = get();
        PostgresServer postgres = s.postgres().orElseThrow(() ->
                new DevStackException("the shared test stack has no embedded PostgreSQL"));
        String name = (prefix + "_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet()).toLowerCase();
        try (Connection c = postgres.adminDataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name.replaceAll("[^a-z0-9_]", "_") + " OWNER " + s.config().dbUser());
        } catch (SQLException e) {
            throw new DevStackException("cannot create test database " + name + ": " + e.getMessage(), e);
        }
        return postgres.jdbcUrl(name.replaceAll("[^a-z0-9_]", "_"));
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
