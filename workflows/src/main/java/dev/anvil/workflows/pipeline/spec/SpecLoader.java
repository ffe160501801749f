package dev.anvil.workflows.pipeline.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Parse then validate in one call, reporting the problems of both steps together. */
public final class SpecLoader {
    private SpecLoader() {}

    /**
     * A spec ready to run.
     *
     * @param runtimeParams params the run will supply beyond those the spec declares (empty when registering)
     * @throws SpecException with every shape and consistency problem found
     */
    public static PipelineSpec load(String text, OperatorRegistry registry, Set<String> runtimeParams) throws SpecException {
        SpecParser.Result parsed = SpecParser.parseCollecting(text);
        List<SpecError> errors = new ArrayList<>(parsed.errors());
        parsed.spec().ifPresent(spec -> errors.addAll(SpecValidator.validate(spec, registry, runtimeParams)));
        if (!errors.isEmpty()) {
            throw new SpecException(errors);
        }
        return parsed.spec().orElseThrow();
    }
}
