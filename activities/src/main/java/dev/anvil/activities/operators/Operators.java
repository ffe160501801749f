package dev.anvil.activities.operators;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The operator engines a worker can run, by name. */
public final class Operators {
    private final Map<String, Operator> byName = new LinkedHashMap<>();

    public Operators(Operator... operators) {
        for (Operator op : operators) {
            byName.put(op.name(), op);
        }
    }

    public Optional<Operator> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public Set<String> names() {
        return byName.keySet();
    }
}
