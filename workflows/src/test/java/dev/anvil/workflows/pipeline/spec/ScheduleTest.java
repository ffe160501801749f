package dev.anvil.workflows.pipeline.spec;

import static dev.anvil.workflows.pipeline.spec.TestSpecs.errors;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ScheduleTest {
    private static final ZoneId UTC = ZoneOffset.UTC;

    // Expected instants computed by hand from a calendar: 2026-11-22 is a Sunday.
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0 3 * * 1          | 2026-11-22T00:00:00Z | 2026-11-23T03:00:00Z",
        "0 3 * * 1          | 2026-11-23T03:00:00Z | 2026-11-30T03:00:00Z",
        "@weekly            | 2026-11-22T00:00:00Z | 2026-11-29T00:00:00Z",
        "@daily             | 2026-11-22T10:30:00Z | 2026-11-23T00:00:00Z",
        "@hourly            | 2026-11-22T10:30:00Z | 2026-11-22T11:00:00Z",
        "@monthly           | 2026-11-22T00:00:00Z | 2026-12-01T00:00:00Z",
        "@yearly            | 2026-11-22T00:00:00Z | 2027-01-01T00:00:00Z",
        "*/15 9-17 * * 1-5  | 2026-11-22T00:00:00Z | 2026-11-23T09:00:00Z",
        "*/15 9-17 * * 1-5  | 2026-11-23T09:07:30Z | 2026-11-23T09:15:00Z",
        "*/15 9-17 * * 1-5  | 2026-11-23T17:45:00Z | 2026-11-24T09:00:00Z",
        "*/15 9-17 * * 1-5  | 2026-11-27T17:50:00Z | 2026-11-30T09:00:00Z",
        "30 2 1,15 * *      | 2026-11-15T02:30:00Z | 2026-12-01T02:30:00Z",
        "0 0 29 2 *         | 2026-03-01T00:00:00Z | 2028-02-29T00:00:00Z",
        "0 12 1 * 5         | 2026-11-22T00:00:00Z | 2026-11-27T12:00:00Z",
        "0 0 * JAN-MAR SUN  | 2026-11-22T00:00:00Z | 2027-01-03T00:00:00Z",
        "5/20 * * * *       | 2026-11-22T00:06:00Z | 2026-11-22T00:25:00Z",
        "0 0 * * 7          | 2026-11-22T00:00:00Z | 2026-11-29T00:00:00Z",
        "59 23 31 12 *      | 2026-12-31T23:59:00Z | 2027-12-31T23:59:00Z"
    })
    void nextFireTimes(String expression, Instant after, Instant expected) {
        assertThat(new Schedule(expression).nextAfter(after, UTC)).contains(expected);
    }

    @Test
    void weeklyIsMidnightOnSunday() {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        Schedule weekly = new Schedule("@weekly");
        Schedule cron = new Schedule("0 0 * * 0");
        for (int i = 0; i < 60; i++) {
            Instant next = weekly.nextAfter(t, UTC).orElseThrow();
            assertThat(cron.nextAfter(t, UTC)).contains(next);
            t = next;
        }
    }

    @Test
    void aFireTimeIsStrictlyAfterTheGivenInstant() {
        Schedule s = new Schedule("*/15 9-17 * * 1-5");
        List<Instant> fires = new ArrayList<>();
        Instant t = Instant.parse("2026-11-23T16:50:00Z");
        for (int i = 0; i < 6; i++) {
            t = s.nextAfter(t, UTC).orElseThrow();
            fires.add(t);
        }
        assertThat(fires).extracting(Instant::toString).containsExactly("2026-11-23T17:00:00Z", "2026-11-23T17:15:00Z",
                "2026-11-23T17:30:00Z", "2026-11-23T17:45:00Z", "2026-11-24T09:00:00Z", "2026-11-24T09:15:00Z");
    }

    @Test
    void onceFiresAtRegistrationOnly() {
        Schedule once = new Schedule("@once");
        Instant registered = Instant.parse("2026-11-22T08:00:00Z");

        assertThat(once.firesOnce()).isTrue();
        assertThat(once.firstFireAt(registered, UTC)).contains(registered);
        assertThat(once.nextAfter(registered, UTC)).isEmpty();
        assertThat(new Schedule("@daily").firstFireAt(registered, UTC)).contains(Instant.parse("2026-11-23T00:00:00Z"));
    }

    @Test
    void anImpossibleCronNeverFires() {
        assertThat(new Schedule("0 0 30 2 *").nextAfter(Instant.parse("2026-01-01T00:00:00Z"), UTC)).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // the last day of a month and the turn of the year, in UTC (no daylight saving to skip or repeat)
        "0 0 31 * *         | 2026-01-31T00:00:00Z | 2026-03-31T00:00:00Z",
        "0 0 31 * *         | 2026-08-31T00:00:00Z | 2026-10-31T00:00:00Z",
        "0 0 30 * *         | 2026-01-30T00:00:00Z | 2026-03-30T00:00:00Z",
        "0 0 1 * *          | 2026-02-28T23:59:00Z | 2026-03-01T00:00:00Z",
        "0 0 28-31 2 *      | 2028-02-28T00:00:00Z | 2028-02-29T00:00:00Z",
        "0 0 28-31 2 *      | 2027-02-28T00:00:00Z | 2028-02-28T00:00:00Z",
        "30 23 * * *        | 2026-12-31T23:30:00Z | 2027-01-01T23:30:00Z",
        "@monthly           | 2026-01-31T12:00:00Z | 2026-02-01T00:00:00Z",
        "@daily             | 2026-03-29T00:30:00Z | 2026-03-30T00:00:00Z",
        "0 2 * * *          | 2026-03-29T01:00:00Z | 2026-03-29T02:00:00Z",
        "0 * * * *          | 2026-10-25T01:00:00Z | 2026-10-25T02:00:00Z"
    })
    void nextFireTimesAcrossMonthEndsInUtc(String expression, Instant after, Instant expected) {
        assertThat(new Schedule(expression).nextAfter(after, UTC)).contains(expected);
    }

    @Test
    void fireTimesStepThroughAYearOfMonthEnds() {
        Schedule.FireTimes lastDays = new Schedule("0 12 28-31 * *").fireTimes().orElseThrow();
        List<String> fires = new ArrayList<>();
        Instant t = Instant.parse("2027-02-01T00:00:00Z");
        for (int i = 0; i < 6; i++) {
            t = lastDays.nextAfter(t, UTC).orElseThrow();
            fires.add(t.toString());
        }
        assertThat(fires).containsExactly("2027-02-28T12:00:00Z", "2027-03-28T12:00:00Z", "2027-03-29T12:00:00Z",
                "2027-03-30T12:00:00Z", "2027-03-31T12:00:00Z", "2027-04-28T12:00:00Z");
        assertThat(new Schedule("@once").fireTimes()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0 24 * * *      | hour field '24': Value 24 not in range [0, 23]",
        "61 * * * *      | minute field '61': Value 61 not in range [0, 59]",
        "0 0 0 * *       | day of month field '0': Value 0 not in range [1, 31]",
        "0 0 * 13 *      | month field '13': Value 13 not in range [1, 12]",
        "0 0 * * 8       | day of week field '8': Value 8 not in range [0, 7]",
        "0 0 * * MONDAY  | day of week field 'MONDAY': Invalid chars in expression! Expression: MONDAY Invalid chars: MONDAY",
        "0 0 5-1 * *     | day of month field '5-1': Invalid range! [5,1]",
        "0 0 L * *       | day of month field 'L': Invalid chars in expression! Expression: L Invalid chars: L"
    })
    void badCronMessagesNameTheField(String expression, String problem) {
        assertThatThrownBy(() -> new Schedule(expression))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cron expression '" + expression + "': " + problem + "; write five fields (minute hour"
                        + " day-of-month month day-of-week) of numbers, JAN-DEC or SUN-SAT, with *, lists (1,2), ranges"
                        + " (1-5) and steps (*/15), e.g. '0 3 * * 1'");
    }

    @Test
    void badCronMessagesSayWhatIsWrong() {
        assertThatThrownBy(() -> new Schedule("0 3 * *"))
                .hasMessageStartingWith("cron expression '0 3 * *': Cron expression contains 4 parts but we expect one"
                        + " of [5]; write five fields (minute hour day-of-month month day-of-week)");
        assertThatThrownBy(() -> new Schedule("0 3 * * * 2026"))
                .hasMessageStartingWith("cron expression '0 3 * * * 2026': Cron expression contains 6 parts");
        assertThatThrownBy(() -> new Schedule("*/0 * * * *"))
                .hasMessageStartingWith("cron expression '*/0 * * * *': minute field '*/0': ");
        assertThatThrownBy(() -> new Schedule("0 0 ? * 1"))
                .hasMessageStartingWith("cron expression '0 0 ? * 1': day of month field '?': ");
    }

    @Test
    void specScheduleErrors() {
        assertThat(errors("pipeline: p\nschedule: \"@fortnightly\"\ntasks: {a: {operator: noop}}")).containsExactly(
                new SpecError("schedule", "unknown preset '@fortnightly'; use one of @hourly, @daily, @weekly,"
                        + " @monthly, @yearly, @annually, @midnight, @once or a cron expression like '0 3 * * 1'"));
        assertThat(errors("pipeline: p\nschedule: \"0 0 31 2 *\"\ntasks: {a: {operator: noop}}")).containsExactly(
                new SpecError("schedule", "cron expression '0 0 31 2 *' never fires (no such date); check the"
                        + " day-of-month and month fields"));
        assertThat(errors("pipeline: p\nschedule: 5\ntasks: {a: {operator: noop}}"))
                .containsExactly(new SpecError("schedule", "must be a string, got 5"));
        assertThat(errors("pipeline: p\nschedule: \"0 3 * * FUNDAY\"\ntasks: {a: {operator: noop}}")).singleElement()
                .satisfies(e -> {
                    assertThat(e.path()).isEqualTo("schedule");
                    assertThat(e.message()).startsWith("cron expression '0 3 * * FUNDAY': day of week field 'FUNDAY': ");
                });
    }

    @Test
    void noneNullAndAbsentMeanNoSchedule() throws SpecException {
        for (String s : List.of("schedule: none\n", "schedule: null\n", "schedule:\n", "")) {
            assertThat(TestSpecs.load("pipeline: p\n" + s + "tasks: {a: {operator: noop}}").schedule())
                    .as(s).isEqualTo(Optional.empty());
        }
    }
}
