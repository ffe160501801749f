package dev.anvil.api.temporal;

import dev.anvil.modelkit.compile.tensorrt.TensorRtRuntime;
import dev.anvil.workflows.TaskQueues;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Which task queues this process polls, and why (for the start-up log). ANVIL_WORKER_QUEUES decides when set;
 * unset, a worker polls anvil-cpu, and anvil-gpu as well where it finds a GPU, so a GPU task never lands on a
 * worker that cannot run it. Either way anvil-gpu is polled only where TensorRT loads (detected once): where it
 * does not, the queue is left out with the reason, and a worker configured for anvil-gpu alone does not start.
 * Tasks on anvil-gpu then wait and fail with {@link TaskQueues#unpolledMessage}.
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
     * @param tensorrt   whether TensorRT loads here; asked only when anvil-gpu would be polled
     * @throws IllegalArgumentException naming the unknown queue and the known ones, or an empty list, or when
     *                                  anvil-gpu alone is configured and TensorRT cannot load (with the reason)
     */
    public static WorkerQueues choose(Optional<String> configured, GpuProbe gpu,
            Supplier<TensorRtRuntime.Availability> tensorrt) {
        if (configured.isPresent()) {
            List<String> queues = parse(configured.get());
            String why = QUEUES_VAR + "=" + configured.get().trim();
            if (!queues.contains(TaskQueues.GPU)) {
                return new WorkerQueues(queues, why);
            }
            TensorRtRuntime.Availability trt = tensorrt.get();
            if (trt.available()) {
                return new WorkerQueues(queues, why + "; " + trt.reason());
            }
            List<String> rest = queues.stream().filter(q -> !q.equals(TaskQueues.GPU)).toList();
            if (rest.isEmpty()) {
                throw new IllegalArgumentException(QUEUES_VAR + "=" + configured.get().trim() + ", but TensorRT cannot"
                        + " run here: " + trt.reason() + ". This GPU worker does not start; tasks on " + TaskQueues.GPU
                        + " wait for a worker where TensorRT loads (see docs/compile.md)");
            }
            return new WorkerQueues(rest, why + "; " + TaskQueues.GPU + " left out: TensorRT cannot run here ("
                    + trt.reason() + ")");
        }
        Optional<String> found = gpu.find();
        if (found.isEmpty()) {
            return new WorkerQueues(List.of(TaskQueues.CPU), "no GPU found (no CUDA_VISIBLE_DEVICES, /dev/nvidia0 or "
                    + "nvidia-smi -L); set " + QUEUES_VAR + "=" + TaskQueues.CPU + "," + TaskQueues.GPU + " to poll "
                    + TaskQueues.GPU + " anyway");
        }
        TensorRtRuntime.Availability trt = tensorrt.get();
        return trt.available()
                ? new WorkerQueues(TaskQueues.ALL, "GPU found (" + found.get() + "); " + trt.reason())
                : new WorkerQueues(List.of(TaskQueues.CPU), "GPU found (" + found.get() + ") but TensorRT cannot run"
                        + " here (" + trt.reason() + "), so " + TaskQueues.GPU + " is not polled");
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
