package dev.anvil.activities.pipeline.bench;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A minimal connection pool for the benchmark, standing in for the Agroal pool the API runs with
 * ({@code quarkus.datasource.jdbc.max-size=16}): the stores open a connection per call, and without a
 * pool every call would pay PostgreSQL's connection start-up (a forked backend), which Anvil does not.
 * Lends at most {@code maxSize} connections, waits up to 5 s for one (as the API's acquisition
 * timeout), and takes a connection back on {@code close()}, rolled back and in auto-commit.
 */
final class PooledDataSource implements DataSource, AutoCloseable {
    private final DataSource target;
    private final Semaphore permits;
    private final LinkedBlockingDeque<Connection> idle = new LinkedBlockingDeque<>();

    PooledDataSource(DataSource target, int maxSize) {
        this.target = target;
        this.permits = new Semaphore(maxSize);
    }

    @Override
    public Connection getConnection() throws SQLException {
        try {
            if (!permits.tryAcquire(5, TimeUnit.SECONDS)) {
                throw new SQLException("bench pool: no connection free within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("bench pool: interrupted while waiting for a connection", e);
        }
        try {
            Connection raw = idle.pollFirst();
            if (raw == null || raw.isClosed()) {
                raw = target.getConnection();
            }
            return lend(raw);
        } catch (SQLException | RuntimeException e) {
            permits.release();
            throw e;
        }
    }

    private Connection lend(Connection raw) {
        InvocationHandler handler = new InvocationHandler() {
            private boolean returned;

            @Override
            public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
                switch (method.getName()) {
                    case "close" -> {
                        if (!returned) {
                            returned = true;
                            giveBack(raw);
                        }
                        return null;
                    }
                    case "isClosed" -> {
                        return returned || raw.isClosed();
                    }
                    default -> {
                        if (returned) {
                            throw new SQLException("bench pool: connection used after close()");
                        }
                        try {
                            return method.invoke(raw, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    }
                }
            }
        };
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, handler);
    }

    private void giveBack(Connection raw) {
        try {
            if (!raw.isClosed()) {
                if (!raw.getAutoCommit()) {
                    raw.rollback();
                    raw.setAutoCommit(true);
                }
                idle.offerFirst(raw);
            }
        } catch (SQLException e) {
            closeQuietly(raw);
        } finally {
            permits.release();
        }
    }

    @Override
    public void close() {
        for (Connection c; (c = idle.pollFirst()) != null; ) {
            closeQuietly(c);
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // the bench is ending or the connection is broken; nothing to keep
        }
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("bench pool: credentials are the target data source's");
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return target.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        target.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        target.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return target.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return target.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        return target.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || target.isWrapperFor(iface);
    }
}
