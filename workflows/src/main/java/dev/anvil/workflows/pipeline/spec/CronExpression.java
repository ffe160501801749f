package dev.anvil.workflows.pipeline.spec;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A classic five-field cron expression (minute, hour, day of month, month, day of week) with
 * {@code *}, lists, ranges, steps and English month/day names. As in Vixie cron and croniter
 * (which Airflow uses), when both day fields are restricted a day matches if either does.
 * Written here rather than pulled in because the workflows module may depend on Temporal only.
 */
public final class CronExpression {
    private static final String[] FIELD_NAMES = {"minute", "hour", "day of month", "month", "day of week"};
    private static final int[] MIN = {0, 0, 1, 1, 0};
    private static final int[] MAX = {59, 23, 31, 12, 7};
    private static final List<String> MONTHS =
            List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC");
    private static final List<String> DAYS = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");
    /** Long enough to find Feb 29 (absent 2097-2103) and short enough to give up on Feb 30 quickly. */
    private static final int SEARCH_YEARS = 10;

    private final String expression;
    private final BitSet minutes;
    private final BitSet hours;
    private final BitSet daysOfMonth;
    private final BitSet months;
    private final BitSet daysOfWeek;
    private final boolean domRestricted;
    private final boolean dowRestricted;

    private CronExpression(String expression, BitSet[] fields, boolean domRestricted, boolean dowRestricted) {
        this.expression = expression;
        this.minutes = fields[0];
        this.hours = fields[1];
        this.daysOfMonth = fields[2];
        this.months = fields[3];
        this.daysOfWeek = fields[4];
        this.domRestricted = domRestricted;
        this.dowRestricted = dowRestricted;
    }

    /** Parses {@code expression}; the exception's message names the bad field and the fix. */
    public static CronExpression parse(String expression) {
        String[] parts = expression.strip().split("\\s+");
        if (parts.length != 5) {
            throw new IllegalArgumentException("cron expression '" + expression + "' has " + parts.length
                    + " field(s); expected 5: minute hour day-of-month month day-of-week, e.g. '0 3 * * 1'");
        }
        BitSet[] fields = new BitSet[5];
        for (int i = 0; i < 5; i++) {
            fields[i] = parseField(parts[i], i, expression);
        }
        if (fields[4].get(7)) { // 7 is Sunday too, as in most crons
            fields[4].set(0);
            fields[4].clear(7);
        }
        return new CronExpression(expression.strip(), fields, !parts[2].startsWith("*"), !parts[4].startsWith("*"));
    }

    public String expression() {
        return expression;
    }

    /** The first matching minute strictly after {@code after}, or empty if none in ten years (e.g. Feb 30). */
    public Optional<Instant> nextAfter(Instant after, ZoneId zone) {
        LocalDateTime t = LocalDateTime.ofInstant(after, zone).truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
        int lastYear = t.getYear() + SEARCH_YEARS;
        // Skip whole months, days and hours that cannot match rather than stepping minute by minute.
        while (t.getYear() <= lastYear) {
            if (!months.get(t.getMonthValue())) {
                t = t.toLocalDate().withDayOfMonth(1).plusMonths(1).atStartOfDay();
            } else if (!dayMatches(t.toLocalDate())) {
                t = t.toLocalDate().plusDays(1).atStartOfDay();
            } else if (!hours.get(t.getHour())) {
                t = t.truncatedTo(ChronoUnit.HOURS).plusHours(1);
            } else if (!minutes.get(t.getMinute())) {
                t = t.plusMinutes(1);
            } else {
                return Optional.of(t.atZone(zone).toInstant());
            }
        }
        return Optional.empty();
    }

    private boolean dayMatches(LocalDate date) {
        boolean dom = daysOfMonth.get(date.getDayOfMonth());
        boolean dow = daysOfWeek.get(date.getDayOfWeek() == DayOfWeek.SUNDAY ? 0 : date.getDayOfWeek().getValue());
        if (domRestricted && dowRestricted) {
            return dom || dow;
        }
        return dom && dow;
    }

    private static BitSet parseField(String field, int index, String expression) {
        BitSet bits = new BitSet();
        for (String item : field.split(",", -1)) {
            parseItem(item, index, bits, expression);
        }
        return bits;
    }

    /** One list item: {@code *}, {@code a}, {@code a-b}, each optionally {@code /step}; {@code a/step} runs to the maximum. */
    private static void parseItem(String item, int index, BitSet bits, String expression) {
        String range = item;
        int step = 1;
        int slash = item.indexOf('/');
        if (slash >= 0) {
            range = item.substring(0, slash);
            step = number(item.substring(slash + 1), index, expression);
            if (step < 1) {
                throw bad(index, expression, "step must be 1 or more");
            }
        }
        int from;
        int to;
        if (range.equals("*")) {
            from = MIN[index];
            to = index == 4 ? 6 : MAX[index];
        } else if (range.contains("-")) {
            String[] ends = range.split("-", -1);
            if (ends.length != 2) {
                throw bad(index, expression, "'" + item + "' is not a range like 1-5");
            }
            from = value(ends[0], index, expression);
            to = value(ends[1], index, expression);
            if (from > to) {
                throw bad(index, expression, "range '" + range + "' runs backwards; write it low-high");
            }
        } else {
            from = value(range, index, expression);
            to = slash >= 0 ? MAX[index] : from;
        }
        for (int v = from; v <= to; v += step) {
            bits.set(v);
        }
    }

    private static int value(String text, int index, String expression) {
        String upper = text.toUpperCase(Locale.ROOT);
        int v;
        if (index == 3 && MONTHS.contains(upper)) {
            v = MONTHS.indexOf(upper) + 1;
        } else if (index == 4 && DAYS.contains(upper)) {
            v = DAYS.indexOf(upper);
        } else {
            v = number(text, index, expression);
        }
        if (v < MIN[index] || v > MAX[index]) {
            throw bad(index, expression, v + " is out of range " + MIN[index] + "-" + MAX[index]);
        }
        return v;
    }

    private static int number(String text, int index, String expression) {
        if (text.isEmpty() || !text.chars().allMatch(Character::isDigit) || text.length() > 4) {
            throw bad(index, expression, "'" + text + "' is not a number" + (index == 3 ? " or month name (JAN-DEC)"
                    : index == 4 ? " or day name (SUN-SAT)" : "") + "; use *, lists (1,2), ranges (1-5) and steps (*/15)");
        }
        return Integer.parseInt(text);
    }

    private static IllegalArgumentException bad(int index, String expression, String why) {
        return new IllegalArgumentException("cron expression '" + expression.strip() + "': "
                + FIELD_NAMES[index] + " field: " + why);
    }

    @Override
    public String toString() {
        return expression;
    }
}
