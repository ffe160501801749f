package dev.anvil.api.pipelines;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The facade hands every call to the backend chosen for the process, and to no other. */
class SchedulesTest {

    /** Records what it was asked, under its name. */
    static final class RecordingBackend implements ScheduleBackend {
        final String name;
        final List<String> calls = new ArrayList<>();

        RecordingBackend(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void ensure(PipelineSpec spec, boolean paused) {
            calls.add("ensure " + spec.name() + " " + paused);
        }

        @Override
        public boolean pause(String pipeline, boolean paused) {
            calls.add("pause " + pipeline + " " + paused);
            return true;
        }

        @Override
        public boolean backfill(String pipeline, long fromMillis, long toMillis, String requestedBy) {
            calls.add("backfill " + pipeline + " " + fromMillis + ".." + toMillis + " by " + requestedBy);
            return true;
        }

        @Override
        public OptionalInt cancelBackfill(String pipeline) {
            calls.add("cancel " + pipeline);
            return OptionalInt.of(3);
        }
    }

    @Test
    void everyCallGoesToTheChosenBackend() throws Exception {
        Schedules schedules = new Schedules();
        RecordingBackend temporal = new RecordingBackend("temporal");
        schedules.use(temporal);
        PipelineSpec spec = SpecLoader.load("""
                pipeline: nightly
                schedule: "0 3 * * *"
                tasks:
                  a: {operator: noop}
                """, OperatorRegistry.builtIns(), Set.of());

        schedules.ensure(spec, false);
        schedules.pause("nightly", true);
        schedules.backfill("nightly", 1, 2, "tess");
        OptionalInt dropped = schedules.cancelBackfill("nightly");

        assertThat(schedules.backendName()).isEqualTo("temporal");
        assertThat(temporal.calls).containsExactly("ensure nightly false", "pause nightly true",
                "backfill nightly 1..2 by tess", "cancel nightly");
        assertThat(dropped).hasValue(3);
    }
}
