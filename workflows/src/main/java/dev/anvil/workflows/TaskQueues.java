package dev.anvil.workflows;

/** The task queues Anvil's workers poll. */
public final class TaskQueues {
    /** Workflows and CPU activities. */
    public static final String CPU = "anvil-cpu";
    /** Activities that need a GPU (TensorRT). */
    public static final String GPU = "anvil-gpu";

    private TaskQueues() {}
}
