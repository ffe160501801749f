package dev.anvil.api.pipelines;

import java.util.List;
import java.util.Locale;

/**
 * Which schedule backend a process uses, from the setting anvil.schedules.backend (ANVIL_SCHEDULES_BACKEND) and
 * what the Temporal service said: auto takes Temporal Schedules where the service has them, else the durable
 * timers; temporal insists (and stops start-up on a service without them); timer never uses them.
 *
 * @param backend "temporal" or "timer"
 * @param why     the reason, for the start-up log line
 */
record ScheduleBackendChoice(String backend, String why) {
    static final String SETTING = "anvil.schedules.backend (ANVIL_SCHEDULES_BACKEND)";
    static final List<String> VALUES = List.of("auto", "temporal", "timer");

    /** @throws IllegalStateException naming the setting, for an unknown value or temporal on a service without Schedules */
    static ScheduleBackendChoice choose(String setting, ScheduleSupportProbe.Result probe) {
        String value = setting == null ? "auto" : setting.strip().toLowerCase(Locale.ROOT);
        switch (value) {
            case "timer":
                return new ScheduleBackendChoice(TimerScheduleBackend.NAME, SETTING + " is timer");
            case "temporal":
                if (probe.support() == ScheduleSupportProbe.Support.UNAVAILABLE) {
                    throw new IllegalStateException(SETTING + " is temporal, but " + probe.detail()
                            + "; set it to auto (Temporal Schedules where the service has them, durable timers"
                            + " elsewhere) or timer");
                }
                return new ScheduleBackendChoice(TemporalScheduleBackend.NAME, SETTING + " is temporal"
                        + (probe.support() == ScheduleSupportProbe.Support.UNKNOWN ? " (" + probe.detail() + ")" : ""));
            case "auto":
                if (probe.support() == ScheduleSupportProbe.Support.AVAILABLE) {
                    return new ScheduleBackendChoice(TemporalScheduleBackend.NAME, "auto: " + probe.detail());
                }
                return new ScheduleBackendChoice(TimerScheduleBackend.NAME, "auto: " + probe.detail()
                        + (probe.support() == ScheduleSupportProbe.Support.UNKNOWN
                        ? "; set " + SETTING + " to temporal on a cluster to skip this question" : ""));
            default:
                throw new IllegalStateException(SETTING + " is '" + setting + "'; use one of " + String.join(", ", VALUES));
        }
    }
}
