package dev.anvil.storage;

import java.util.Locale;
import java.util.regex.Pattern;

/** The sha256 text format and the object keys derived from it: {@code sha256/<first two hex>/<64 hex>}. */
final class ContentKeys {
    static final String CONTENT_PREFIX = "sha256/";
    static final String TEMP_PREFIX = "tmp/";
    /** Task logs, written under a name rather than their content (they grow while a task runs). */
    static final String LOG_PREFIX = "logs/";
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    private ContentKeys() {}

    /** Lower-cases {@code sha256} and checks it is 64 hex digits, or says what is wrong with it. */
    static String normalize(String sha256) {
        if (sha256 == null) {
            throw new IllegalArgumentException("sha256 is missing: expected 64 hex digits");
        }
        String lower = sha256.trim().toLowerCase(Locale.ROOT);
        if (!SHA256_HEX.matcher(lower).matches()) {
            throw new IllegalArgumentException("'" + abbreviate(sha256) + "' is not a sha256: expected 64 hex digits"
                    + " (0-9, a-f), got " + sha256.length() + " characters");
        }
        return lower;
    }

    static String contentKey(String normalizedSha256) {
        return CONTENT_PREFIX + normalizedSha256.substring(0, 2) + "/" + normalizedSha256;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
