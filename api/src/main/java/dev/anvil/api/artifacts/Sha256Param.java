package dev.anvil.api.artifacts;

import dev.anvil.api.problem.ProblemException;
import java.util.Locale;
import java.util.regex.Pattern;

/** Validates a sha256 path or body value: 64 hexadecimal digits, any case, returned lower-case. */
public final class Sha256Param {
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    private Sha256Param() {}

    public static String require(String field, String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        if (!HEX64.matcher(v).matches()) {
            throw ProblemException.badRequest(field, "'" + field + "' must be a sha256: 64 hexadecimal digits, got '"
                    + (value == null ? "" : value) + "' (" + v.length() + " characters)");
        }
        return v;
    }
}
