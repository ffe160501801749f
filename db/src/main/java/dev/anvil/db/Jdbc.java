package dev.anvil.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * The JDBC plumbing the stores share: borrow a connection, bind, map rows, and turn every
 * {@link SQLException} into a {@link DataAccessException} that names the table and operation.
 */
final class Jdbc {

    @FunctionalInterface
    interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    @FunctionalInterface
    interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private final DataSource dataSource;

    Jdbc(DataSource dataSource) {
        if (dataSource == null) {
            throw new IllegalArgumentException("dataSource is null: pass the DataSource of the Anvil database");
        }
        this.dataSource = dataSource;
    }

    /** Runs work in one transaction: committed if it returns, rolled back if it throws. */
    <T> T inTransaction(String table, String operation, Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true); // hand a pooled connection back as it was lent
            }
        } catch (SQLException e) {
            throw DataAccessException.wrap(table, operation, e);
        }
    }

    /** Runs work on one auto-commit connection: each statement commits on its own. */
    <T> T withConnection(String table, String operation, Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw DataAccessException.wrap(table, operation, e);
        }
    }

    <T> List<T> query(String table, String operation, String sql, RowMapper<T> mapper, Object... params) {
        return withConnection(table, operation, c -> query(c, sql, mapper, params));
    }

    <T> Optional<T> queryOne(String table, String operation, String sql, RowMapper<T> mapper, Object... params) {
        return withConnection(table, operation, c -> queryOne(c, sql, mapper, params));
    }

    static <T> List<T> query(Connection c, String sql, RowMapper<T> mapper, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
            List<T> rows = new ArrayList<>();
            while (rs.next()) {
                rows.add(mapper.map(rs));
            }
            return rows;
        }
    }

    static <T> Optional<T> queryOne(Connection c, String sql, RowMapper<T> mapper, Object... params)
            throws SQLException {
        List<T> rows = query(c, sql, mapper, params);
        if (rows.size() > 1) {
            throw new SQLException("expected at most one row, got " + rows.size() + " from: " + sql);
        }
        return rows.stream().findFirst();
    }

    static int update(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, params)) {
            return ps.executeUpdate();
        }
    }

    private static PreparedStatement prepare(Connection c, String sql, Object... params) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        try {
            for (int i = 0; i < params.length; i++) {
                Object p = params[i];
                // The driver has no mapping for Instant; timestamptz takes an OffsetDateTime.
                ps.setObject(i + 1, p instanceof Instant t ? t.atOffset(ZoneOffset.UTC) : p);
            }
            return ps;
        } catch (SQLException e) {
            ps.close();
            throw e;
        }
    }

    static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    static Long nullableLong(ResultSet rs, String column) throws SQLException {
        return rs.getObject(column, Long.class);
    }

    static Integer nullableInt(ResultSet rs, String column) throws SQLException {
        return rs.getObject(column, Integer.class);
    }

    /** True when e is PostgreSQL reporting a violation of the named constraint (or index). */
    static boolean violates(SQLException e, String constraint) {
        if (e instanceof PSQLException p) {
            ServerErrorMessage m = p.getServerErrorMessage();
            return m != null && constraint.equals(m.getConstraint());
        }
        return false;
    }
}
