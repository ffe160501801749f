package dev.anvil.workflows.pipeline.spec;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the durations specs use: the short form Airflow users type ({@code 30s}, {@code 5m},
 * {@code 1h30m}, {@code 2d}) and ISO-8601 ({@code PT30S}, {@code P1D}). Plain integers (seconds)
 * are read by the parser, not here, since YAML already gives them a type.
 */
public final class Durations {
    /** Units largest first, each at most once, so "1h30m" reads one way only. */
    private static final Pattern SHORT = Pattern.compile("(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?");
    private static final long[] UNIT_SECONDS = {86_400, 3_600, 60, 1};

    public static final String FORMS = "a duration such as 30s, 5m, 1h, 1h30m, 2d or ISO-8601 PT30S";

    private Durations() {}

    /** The duration, or empty if {@code text} is neither form or is negative. */
    public static Optional<Duration> parse(String text) {
        String t = text.strip();
        if (t.isEmpty()) {
            return Optional.empty();
        }
        if (t.startsWith("P") || t.startsWith("p") || t.startsWith("-")) {
            return parseIso(t);
        }
        Matcher m = SHORT.matcher(t);
        if (!m.matches()) {
            return Optional.empty();
        }
        long seconds = 0;
        try {
            for (int i = 0; i < UNIT_SECONDS.length; i++) {
                String group = m.group(i + 1);
                if (group != null) {
                    seconds = Math.addExact(seconds, Math.multiplyExact(Long.parseLong(group), UNIT_SECONDS[i]));
                }
            }
        } catch (NumberFormatException | ArithmeticException tooLarge) {
            return Optional.empty();
        }
        return Optional.of(Duration.ofSeconds(seconds));
    }

    private static Optional<Duration> parseIso(String t) {
        try {
            Duration d = Duration.parse(t);
            return d.isNegative() ? Optional.empty() : Optional.of(d);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
