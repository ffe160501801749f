package dev.anvil.workflows.pipeline.spec;

import java.util.List;
import java.util.stream.Collectors;

/** A spec that cannot be run, with every problem found in it (not just the first). */
public class SpecException extends Exception {
    private final transient List<SpecError> errors;

    public SpecException(List<SpecError> errors) {
        super(summary(errors));
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("a SpecException needs at least one error");
        }
        this.errors = List.copyOf(errors);
    }

    public List<SpecError> errors() {
        return errors;
    }

    private static String summary(List<SpecError> errors) {
        String noun = errors.size() == 1 ? "problem" : "problems";
        return "invalid pipeline spec (" + errors.size() + " " + noun + "):\n  "
                + errors.stream().map(SpecError::toString).collect(Collectors.joining("\n  "));
    }
}
