package dev.anvil.workflows.pipeline.spec;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The operators specs may name. Later operators plug in by adding their {@link OperatorDescriptor}. */
public interface OperatorRegistry {
    Optional<OperatorDescriptor> find(String name);

    /** Every operator name, sorted, for error messages and the API. */
    List<String> names();

    /**
     * The queue {@code task} runs on: the one its {@code with} requires (compile's {@code target: tensorrt}: the GPU
     * queue), else its own (or default_args') if given, else its operator's. A task naming another queue than the one
     * its {@code with} requires is refused by {@link SpecValidator} before it gets here.
     */
    default String queueFor(TaskSpec task) {
        OperatorDescriptor op = find(task.operator())
                .orElseThrow(() -> new IllegalArgumentException("unknown operator '" + task.operator() + "'"));
        return op.routeFor(task.with()).map(OperatorDescriptor.QueueRoute::queue)
                .or(task::queue).orElse(op.taskQueue());
    }

    /** Whether {@code task}'s result may be reused: the spec allows it and the operator is deterministic. */
    default boolean cacheable(TaskSpec task) {
        return task.cache() && find(task.operator()).map(op -> op.deterministicFor(task.with())).orElse(false);
    }

    /** @throws IllegalArgumentException if two descriptors share a name, or a {@code with} schema is not valid JSON Schema */
    static OperatorRegistry of(Collection<OperatorDescriptor> descriptors) {
        Map<String, OperatorDescriptor> byName = new TreeMap<>();
        for (OperatorDescriptor d : descriptors) {
            if (byName.putIfAbsent(d.name(), d) != null) {
                throw new IllegalArgumentException("operator '" + d.name() + "' is registered twice");
            }
            WithValidator.checkSchema(d);
        }
        List<String> names = List.copyOf(byName.keySet());
        return new OperatorRegistry() {
            @Override
            public Optional<OperatorDescriptor> find(String name) {
                return Optional.ofNullable(byName.get(name));
            }

            @Override
            public List<String> names() {
                return names;
            }
        };
    }

    /** The operators this module ships: {@link BuiltInOperators#all()}. */
    static OperatorRegistry builtIns() {
        return of(BuiltInOperators.all());
    }
}
