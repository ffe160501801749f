package dev.anvil.db;

import java.sql.SQLException;

/**
 * A failed database operation. The message names the table and the operation ("task_runs finish:
 * ..."), so a log line says where to look without a stack trace.
 *
 * <p>{@link #isBadInput()} separates caller mistakes (unknown artifact, bad status, duplicate key)
 * from infrastructure faults: callers running inside Temporal activities map the first to a
 * non-retryable failure and let the second retry.
 */
public class DataAccessException extends RuntimeException {

    private final boolean badInput;

    private DataAccessException(String message, boolean badInput, Throwable cause) {
        super(message, cause);
        this.badInput = badInput;
    }

    /** A caller mistake found by the store before or instead of the database. */
    static DataAccessException badInput(String table, String operation, String detail) {
        return new DataAccessException(table + " " + operation + ": " + detail, true, null);
    }

    /** A caller mistake the database reported (constraint violation), with a clearer message. */
    static DataAccessException badInput(String table, String operation, String detail, SQLException cause) {
        return new DataAccessException(table + " " + operation + ": " + detail, true, cause);
    }

    /** Wraps a driver error; SQLSTATE classes 22 (data) and 23 (integrity) count as bad input. */
    static DataAccessException wrap(String table, String operation, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        boolean badInput = state.startsWith("22") || state.startsWith("23");
        String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
        String message = table + " " + operation + " failed: " + detail + " (SQLSTATE " + state + ")";
        return new DataAccessException(message, badInput, e);
    }

    /** True when retrying the same call cannot succeed: the input, not the database, is wrong. */
    public boolean isBadInput() {
        return badInput;
    }
}
