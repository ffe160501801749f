package dev.anvil.db;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Input checks made before SQL runs, so a caller mistake gets a message listing the valid choices
 * rather than a constraint name. The database CHECK constraints stay as the backstop.
 */
final class Validate {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private Validate() {
    }

    static String oneOf(String table, String operation, String field, String value, List<String> allowed) {
        if (!allowed.contains(value)) {
            throw DataAccessException.badInput(table, operation,
                    field + " '" + value + "' is not valid, expected one of " + allowed);
        }
        return value;
    }

    static String sha256(String table, String operation, String value) {
        if (value == null || !SHA256.matcher(value).matches()) {
            throw DataAccessException.badInput(table, operation,
                    "sha256 '" + value + "' is not 64 lowercase hex characters (hex-encode the SHA-256 digest)");
        }
        return value;
    }

    static <T> T notNull(String table, String operation, String field, T value) {
        if (value == null) {
            throw DataAccessException.badInput(table, operation, field + " is required but was null");
        }
        return value;
    }
}
