package dev.anvil.activities.operators;

import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The operator engines a worker can run, keyed by the name in each engine's {@link Operator#descriptor()}, so an
 * operator's name is written once, in its descriptor.
 */
public final class Operators {
    /**
     * Operators the pipeline workflow runs itself, with no engine on a worker: approval (an Update per decision)
     * and canary (a child rollout workflow between the activities of {@code CanaryTaskActivitiesImpl}).
     */
    public static final Set<String> RUN_BY_THE_WORKFLOW = Set.of("approval", "canary");

    private final Map<String, Operator> byName = new LinkedHashMap<>();

    public Operators(Operator... operators) {
        for (Operator op : operators) {
            if (byName.putIfAbsent(op.name(), op) != null) {
                throw new IllegalArgumentException("two engines for operator '" + op.name() + "': "
                        + byName.get(op.name()).getClass().getSimpleName() + " and " + op.getClass().getSimpleName());
            }
        }
    }

    public Optional<Operator> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public Set<String> names() {
        return byName.keySet();
    }

    /** The descriptors of the operators this worker runs, in the order the engines were given. */
    public List<OperatorDescriptor> descriptors() {
        return byName.values().stream().map(Operator::descriptor).toList();
    }

    /**
     * Start-up check that specs and worker agree: every operator a spec may name has an engine here (else its
     * tasks would fail at run time with "unknown operator"), and every engine here has a descriptor (else no
     * spec could reach it). Adding an operator means its descriptor in BuiltInOperators and its engine in the
     * worker's list; forgetting either stops the worker at start-up, naming it.
     *
     * @throws IllegalStateException naming what is missing on which side
     */
    public Operators requireMatches(OperatorRegistry registry) {
        Set<String> described = new TreeSet<>(registry.names());
        described.removeAll(RUN_BY_THE_WORKFLOW);
        Set<String> withoutEngine = new TreeSet<>(described);
        withoutEngine.removeAll(byName.keySet());
        Set<String> withoutDescriptor = new TreeSet<>(byName.keySet());
        withoutDescriptor.removeAll(described);
        Set<String> otherDescriptor = new TreeSet<>();
        for (Operator op : byName.values()) {
            registry.find(op.name()).filter(d -> !d.equals(op.descriptor())).ifPresent(d -> otherDescriptor.add(op.name()));
        }
        if (!withoutEngine.isEmpty() || !withoutDescriptor.isEmpty() || !otherDescriptor.isEmpty()) {
            List<String> problems = new java.util.ArrayList<>();
            if (!withoutEngine.isEmpty()) {
                problems.add("operators " + withoutEngine + " have a descriptor but no engine on this worker: add "
                        + "their Operator to the worker's Operators (AnvilStartup)");
            }
            if (!withoutDescriptor.isEmpty()) {
                problems.add("engines " + withoutDescriptor + " have no descriptor, so no spec can name them: add "
                        + "their OperatorDescriptor to BuiltInOperators.all()");
            }
            if (!otherDescriptor.isEmpty()) {
                problems.add("engines " + otherDescriptor + " describe their operator otherwise than the registry: "
                        + "return the registry's descriptor (BuiltInOperators) from descriptor()");
            }
            throw new IllegalStateException(String.join("; ", problems));
        }
        return this;
    }
}
