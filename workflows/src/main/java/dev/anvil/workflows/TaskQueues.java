package dev.anvil.workflows;

import java.util.List;

/** The task queues Anvil's workers poll. */
public final class TaskQueues {
    /** Workflows and CPU activities. */
    public static final String CPU = "anvil-cpu";
    /** Activities that need a GPU (TensorRT). */
    public static final String GPU = "anvil-gpu";
    /** Every queue a worker may poll or a task may name, in this order in messages. */
    public static final List<String> ALL = List.of(CPU, GPU);

    private TaskQueues() {}

    /**
     * Why a task that waited {@code waited} on {@code queue} never started, and how to start a worker
     * for it: the message a person sees on the failed task.
     */
    public static String unpolledMessage(String queue, java.time.Duration waited) {
        String limit = waited == null ? "its schedule-to-start timeout" : waited.toString().substring(2).toLowerCase();
        return "no worker picked the task up from task queue '" + queue + "' within " + limit
                + " (schedule-to-start timeout): nothing polls that queue, or every worker on it was busy that long. "
                + "Start a worker for it: "
                + "ANVIL_WORKER_QUEUES=" + queue + " ANVIL_API_ENABLED=false java -jar quarkus-run.jar"
                + (GPU.equals(queue) ? " on a machine with a GPU (a worker polls " + GPU
                        + " by itself only where it finds one), or on Kubernetes scale the anvil-worker-gpu deployment"
                        : ", or on Kubernetes scale the anvil-worker deployment")
                + " (deploy/k8s); ANVIL_SCHEDULE_TO_START_TIMEOUT sets how long a task may wait (0: no limit)";
    }
}
