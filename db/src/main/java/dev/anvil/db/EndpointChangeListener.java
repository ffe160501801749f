package dev.anvil.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Calls back whenever any process changes an endpoint: the {@code endpoints} table's trigger sends a
 * PostgreSQL notification on channel {@value #CHANNEL}, which this listener receives on a connection of
 * its own (held for as long as it runs). A lost connection is opened again after {@code retryDelay};
 * notifications sent while it was down are lost, which the serving process's periodic refresh covers.
 */
public final class EndpointChangeListener implements AutoCloseable {
    public static final String CHANNEL = "anvil_endpoints";
    private static final System.Logger LOG = System.getLogger(EndpointChangeListener.class.getName());

    private final DataSource dataSource;
    private final Runnable onChange;
    private final Duration retryDelay;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean listening;

    public EndpointChangeListener(DataSource dataSource, Runnable onChange, Duration retryDelay) {
        this.dataSource = dataSource;
        this.onChange = onChange;
        this.retryDelay = retryDelay;
        this.thread = new Thread(this::run, "anvil-endpoint-changes");
        this.thread.setDaemon(true);
    }

    public EndpointChangeListener start() {
        thread.start();
        return this;
    }

    /** True once the LISTEN is in place (and while its connection holds). */
    public boolean listening() {
        return listening;
    }

    private void run() {
        while (running) {
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(true);
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                listening = true;
                onChange.run(); // changes made before the LISTEN took effect
                while (running) {
                    PGNotification[] notifications = pg.getNotifications(1000);
                    if (notifications != null && notifications.length > 0) {
                        onChange.run();
                    }
                }
            } catch (SQLException | RuntimeException e) {
                listening = false;
                if (!running) {
                    return;
                }
                LOG.log(System.Logger.Level.WARNING, "endpoint change notifications interrupted ({0}); listening again in {1} ms",
                        e.getMessage(), retryDelay.toMillis());
                try {
                    Thread.sleep(retryDelay.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(3000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        listening = false;
    }
}
