package dev.anvil.workflows.pipeline.spec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything Anvil knows about an operator type, in one place: its name in specs, the task queue it runs on
 * unless a task says otherwise, the JSON Schema (draft 2020-12) its {@code with} must satisfy, whether it is
 * deterministic (same inputs, same outputs), which is what makes its results safe to cache, and how Temporal
 * bounds its attempts. The worker's engine for it returns this same descriptor (activities' {@code Operator}),
 * so an operator's name is written once.
 *
 * @param heartbeatTimeout  how long its attempt may go without a heartbeat before Temporal takes the worker for
 *                          dead and retries the task elsewhere; empty: no heartbeat timeout (short operators)
 * @param executionTimeout  the bound on one attempt when the operator sets its own (external: the outside
 *                          service's job) instead of the task's {@code execution_timeout}; empty: the task's
 * @param queueRoutes       {@code with} values that need another queue than {@code taskQueue} (compile's
 *                          {@code target: tensorrt} needs a GPU worker); the first that matches wins
 */
public record OperatorDescriptor(
        String name, String taskQueue, Map<String, Object> withSchema, boolean deterministic,
        Optional<Duration> heartbeatTimeout, Optional<Duration> executionTimeout, List<QueueRoute> queueRoutes) {

    /**
     * A task whose {@code with.<field>} equals {@code value} must run on {@code queue}, because only workers there can
     * run it; {@code why} says so in messages. {@code deterministic} replaces the operator's for such tasks (a
     * TensorRT build times kernels on the GPU it runs on, so its bytes differ build to build: never cached).
     */
    public record QueueRoute(String field, String value, String queue, String why, boolean deterministic) {
        public QueueRoute {
            Objects.requireNonNull(field, "field");
            Objects.requireNonNull(value, "value");
            Objects.requireNonNull(why, "why");
            if (!SpecParser.QUEUES.contains(queue)) {
                throw new IllegalArgumentException("queue route " + field + "=" + value + ": unknown task queue '"
                        + queue + "'; use one of " + SpecParser.QUEUES);
            }
        }
    }

    public OperatorDescriptor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(taskQueue, "taskQueue");
        Objects.requireNonNull(heartbeatTimeout, "heartbeatTimeout");
        Objects.requireNonNull(executionTimeout, "executionTimeout");
        if (!SpecParser.QUEUES.contains(taskQueue)) {
            throw new IllegalArgumentException("operator '" + name + "': unknown task queue '" + taskQueue
                    + "'; use one of " + SpecParser.QUEUES);
        }
        requirePositive(name, "heartbeat timeout", heartbeatTimeout);
        requirePositive(name, "execution timeout", executionTimeout);
        withSchema = JsonValues.freezeMap(withSchema);
        queueRoutes = List.copyOf(queueRoutes);
    }

    /** An operator that always runs on {@code taskQueue}. */
    public OperatorDescriptor(String name, String taskQueue, Map<String, Object> withSchema, boolean deterministic,
            Optional<Duration> heartbeatTimeout, Optional<Duration> executionTimeout) {
        this(name, taskQueue, withSchema, deterministic, heartbeatTimeout, executionTimeout, List.of());
    }

    /** An operator without heartbeat timeout whose attempts are bounded by the task's execution_timeout. */
    public OperatorDescriptor(String name, String taskQueue, Map<String, Object> withSchema, boolean deterministic) {
        this(name, taskQueue, withSchema, deterministic, Optional.empty(), Optional.empty());
    }

    /** This operator, retried elsewhere when its attempt sends no heartbeat for {@code timeout}. */
    public OperatorDescriptor withHeartbeatTimeout(Duration timeout) {
        return new OperatorDescriptor(name, taskQueue, withSchema, deterministic, Optional.of(timeout),
                executionTimeout, queueRoutes);
    }

    /** This operator, each attempt bounded by {@code timeout} rather than by the task's execution_timeout. */
    public OperatorDescriptor withExecutionTimeout(Duration timeout) {
        return new OperatorDescriptor(name, taskQueue, withSchema, deterministic, heartbeatTimeout,
                Optional.of(timeout), queueRoutes);
    }

    /** This operator, whose tasks with {@code with.<field>: value} run on {@code queue} (see {@link QueueRoute}). */
    public OperatorDescriptor withQueueWhen(String field, String value, String queue, String why,
            boolean routeDeterministic) {
        List<QueueRoute> routes = new java.util.ArrayList<>(queueRoutes);
        routes.add(new QueueRoute(field, value, queue, why, routeDeterministic));
        return new OperatorDescriptor(name, taskQueue, withSchema, deterministic, heartbeatTimeout, executionTimeout,
                routes);
    }

    /** Whether a task with this {@code with} gives the same outputs for the same inputs (so may be cached). */
    public boolean deterministicFor(Map<String, Object> with) {
        return routeFor(with).map(QueueRoute::deterministic).orElse(deterministic);
    }

    /** The route a task with this {@code with} must take, if any. */
    public Optional<QueueRoute> routeFor(Map<String, Object> with) {
        return queueRoutes.stream().filter(r -> r.value().equals(with.get(r.field()))).findFirst();
    }

    /** The queue a task with this {@code with} runs on unless it names its own: a matching route's, else the default. */
    public String queueFor(Map<String, Object> with) {
        return routeFor(with).map(QueueRoute::queue).orElse(taskQueue);
    }

    /** A schema written as JSON text, keys in order, as operators usually declare theirs. */
    public static Map<String, Object> schemaFromJson(String json) {
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = new ObjectMapper().readValue(json, LinkedHashMap.class);
            return m;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("operator schema is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static void requirePositive(String name, String what, Optional<Duration> timeout) {
        if (timeout.isPresent() && (timeout.get().isZero() || timeout.get().isNegative())) {
            throw new IllegalArgumentException("operator '" + name + "': the " + what + " must be positive, got "
                    + timeout.get());
        }
    }
}
