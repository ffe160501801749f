package dev.anvil.workflows.pipeline.spec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A parsed pipeline: immutable and ordered (tasks and params keep their declaration order), so it
 * can be handed to workflow code, which must be deterministic. Obtain one from {@link SpecParser}
 * and check it with {@link SpecValidator}, or do both with {@link SpecLoader}. {@code triggers} are the events
 * ({@code schedule.on}) that start it besides its cron. {@code maxActiveRuns} (Airflow's {@code max_active_runs})
 * bounds how many of its runs may be active at once; null means no bound.
 */
public record PipelineSpec(
        String name,
        String description,
        Optional<Schedule> schedule,
        boolean catchup,
        Map<String, Object> params,
        DefaultArgs defaultArgs,
        Map<String, TaskSpec> tasks,
        List<EventTrigger> triggers,
        Integer maxActiveRuns) {

    /** A pipeline with no bound on its active runs. */
    public PipelineSpec(String name, String description, Optional<Schedule> schedule, boolean catchup,
                        Map<String, Object> params, DefaultArgs defaultArgs, Map<String, TaskSpec> tasks,
                        List<EventTrigger> triggers) {
        this(name, description, schedule, catchup, params, defaultArgs, tasks, triggers, null);
    }

    /** A pipeline that no event starts (only its cron, if any). */
    public PipelineSpec(String name, String description, Optional<Schedule> schedule, boolean catchup,
                        Map<String, Object> params, DefaultArgs defaultArgs, Map<String, TaskSpec> tasks) {
        this(name, description, schedule, catchup, params, defaultArgs, tasks, List.of());
    }

    public PipelineSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(defaultArgs, "defaultArgs");
        params = JsonValues.freezeMap(params);
        tasks = Collections.unmodifiableMap(new LinkedHashMap<>(tasks));
        // specs serialized before schedule.on existed have no triggers
        triggers = triggers == null ? List.of() : List.copyOf(triggers);
        if (maxActiveRuns != null && maxActiveRuns < 1) {
            throw new IllegalArgumentException("maxActiveRuns " + maxActiveRuns + " must be at least 1, or null");
        }
    }

    /** The task called {@code id}; throws if there is none, which after validation is a bug. */
    public TaskSpec task(String id) {
        TaskSpec t = tasks.get(id);
        if (t == null) {
            throw new IllegalArgumentException("pipeline '" + name + "' has no task '" + id + "'; tasks: " + tasks.keySet());
        }
        return t;
    }
}
