package dev.anvil.workflows.pipeline.spec;

import static dev.anvil.workflows.pipeline.spec.TestSpecs.errors;
import static dev.anvil.workflows.pipeline.spec.TestSpecs.load;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code schedule: {cron, on}}: events that start a pipeline besides its cron, checked for form only. */
class EventScheduleTest {
    @Test
    void readsCronAndEvents() throws SpecException {
        PipelineSpec spec = load("""
                pipeline: retrain-fraud
                schedule: {cron: "@weekly", on: [{drift: fraud.v2}, {dataset: transactions}]}
                tasks:
                  check: {operator: drift, with: {endpoint: fraud.v2, reference: transactions@3, psi: 0.25}}
                """);
        assertThat(spec.schedule()).contains(new Schedule("@weekly"));
        assertThat(spec.triggers()).containsExactly(new EventTrigger("drift", "fraud.v2"),
                new EventTrigger("dataset", "transactions"));
        assertThat(spec.triggers().get(0).matches("drift", "fraud.v2")).isTrue();
        assertThat(spec.triggers().get(0).matches("dataset", "fraud.v2")).isFalse();
    }

    @Test
    void eventsAloneAreASchedule() throws SpecException {
        PipelineSpec spec = load("""
                pipeline: retrain
                schedule:
                  on:
                    - dataset: digits
                tasks: {a: {operator: noop}}
                """);
        assertThat(spec.schedule()).isEmpty();
        assertThat(spec.triggers()).containsExactly(new EventTrigger("dataset", "digits"));
        // the string form has no events
        assertThat(load("pipeline: p\nschedule: '@daily'\ntasks: {a: {operator: noop}}").triggers()).isEmpty();
    }

    @Test
    void malformedEntriesAreRefusedNamingTheEntry() {
        List<SpecError> errors = errors("""
                pipeline: p
                schedule:
                  cron: "@weekly"
                  on:
                    - {drift: fraud, dataset: digits}
                    - {webhook: x}
                    - {dataset: 42}
                    - {drift: "Not A Name"}
                    - dataset: digits
                    - dataset: digits
                    - just-a-string
                tasks: {a: {operator: noop}}
                """);
        assertThat(errors).extracting(SpecError::path).contains("schedule.on[0]", "schedule.on[1]",
                "schedule.on[2].dataset", "schedule.on[3].drift", "schedule.on[5]", "schedule.on[6]");
        assertThat(errors).filteredOn(e -> e.path().equals("schedule.on[1]")).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("unknown event 'webhook'"));
        assertThat(errors).filteredOn(e -> e.path().equals("schedule.on[3].drift")).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("'Not A Name' is not a valid endpoint name"));
        assertThat(errors).filteredOn(e -> e.path().equals("schedule.on[5]")).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("listed twice"));
        assertThat(errors).extracting(SpecError::path).doesNotContain("schedule.on[4]");
    }

    @Test
    void aScheduleMappingNeedsCronOrOnAndNothingElse() {
        assertThat(errors("pipeline: p\nschedule: {}\ntasks: {a: {operator: noop}}"))
                .extracting(SpecError::path).contains("schedule");
        assertThat(errors("pipeline: p\nschedule: {cron: '@daily', every: 5m}\ntasks: {a: {operator: noop}}"))
                .extracting(SpecError::path).contains("schedule.every");
        assertThat(errors("pipeline: p\nschedule: {cron: 'not a cron', on: []}\ntasks: {a: {operator: noop}}"))
                .extracting(SpecError::path).contains("schedule.cron");
        assertThat(errors("pipeline: p\nschedule: {on: {drift: x}}\ntasks: {a: {operator: noop}}"))
                .singleElement().satisfies(e -> assertThat(e.message()).contains("must be a list of events"));
    }

    @Test
    void theDriftOperatorsWithIsChecked() {
        assertThat(errors("pipeline: p\ntasks: {a: {operator: drift, with: {endpoint: e}}}"))
                .extracting(SpecError::message).anyMatch(m -> m.contains("reference"));
        assertThat(errors("pipeline: p\ntasks: {a: {operator: drift, with: {endpoint: e, reference: d, psy: 1}}}"))
                .extracting(SpecError::message).anyMatch(m -> m.contains("psy"));
    }
}
