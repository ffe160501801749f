package dev.anvil.api.temporal;

import dev.anvil.workflows.TaskQueues;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which task queues this process polls, and why (for the start-up log). ANVIL_WORKER_QUEUES decides when set;
 * unset, a worker polls anvil-cpu, and anvil-gpu as well where it finds a GPU, so a GPU task never lands on a
 * worker that cannot run it.
 *
 * @param queues the queues to poll, in {@link TaskQueues#ALL} order
 * @param why    how they were chosen, in words
 */
public record WorkerQueues(List<String> queues, String why) {
    static final String QUEUES_VAR = "ANVIL_WORKER_QUEUES";
    static final String MAX_ACTIVITIES_VAR = "ANVIL_WORKER_MAX_ACTIVITIES";
    /** Far more than a worker process can usefully run; a typo (80000) is refused rather than obeyed. */
    static final int MAX_ACTIVITIES_LIMIT = 256;

    /**
     * @param configured ANVIL_WORKER_QUEUES, if set
     * @param gpu        asked only when {@code configured} is empty
     * @throws IllegalArgumentException naming the unknown queue and the known ones, or an empty list
     */
    public static WorkerQueues choose(Optional<String> configured, GpuProbe gpu) {
        if (configured.isPresent()) {
            List<String> queues = parse(configured.get());
            return new WorkerQueues(queues, QUEUES_VAR + "=" + configured.get().trim());
        }
        Optional<String> found = gpu.find();
        return found.isPresent()
                ? new WorkerQueues(TaskQueues.ALL, "GPU found (" + found.get() + ")")
                : new WorkerQueues(List.of(TaskQueues.CPU), "no GPU found (no CUDA_VISIBLE_DEVICES, /dev/nvidia0 or "
                        + "nvidia-smi -L); set " + QUEUES_VAR + "=" + TaskQueues.CPU + "," + TaskQueues.GPU + " to poll "
                        + TaskQueues.GPU + " anyway");
    }

    static List<String> parse(String text) {
        Set<String> named = new LinkedHashSet<>();
        for (String part : text.split(",")) {
            String q = part.trim();
            if (q.isEmpty()) {
                continue;
            }
            if (!TaskQueues.ALL.contains(q)) {
                throw new IllegalArgumentException(QUEUES_VAR + ": unknown task queue '" + q + "'; known queues: "
                        + String.join(", ", TaskQueues.ALL));
            }
            named.add(q);
        }
        if (named.isEmpty()) {
            throw new IllegalArgumentException(QUEUES_VAR + " names no task queue; give one or more of "
                    + String.join(", ", TaskQueues.ALL) + " (comma-separated), or unset it, or set "
                    + "ANVIL_WORKER_ENABLED=false for a process without a worker");
        }
        List<String> ordered = new ArrayList<>();
        TaskQueues.ALL.stream().filter(named::contains).forEach(ordered::add);
        return List.copyOf(ordered);
    }

    /** @throws IllegalArgumentException naming the variable and the range */
    static int checkMaxActivities(int value) {
        if (value < 1 || value > MAX_ACTIVITIES_LIMIT) {
            throw new IllegalArgumentException(MAX_ACTIVITIES_VAR + "=" + value + " is out of range; give 1 to "
                    + MAX_ACTIVITIES_LIMIT + " (activities one worker runs at once on each queue it polls)");
        }
        return value;
    }

    /** Workflows run where the CPU activities do; a GPU-only worker runs activities alone. */
    public boolean runsWorkflows() {
        return queues.contains(TaskQueues.CPU);
    }
}
