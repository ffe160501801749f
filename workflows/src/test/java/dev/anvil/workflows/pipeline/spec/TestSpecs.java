package dev.anvil.workflows.pipeline.spec;

import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.anvil.workflows.TaskQueues;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Shared fixtures: a registry with a stand-in for the quantize operator later issues ship. */
final class TestSpecs {
    static final OperatorDescriptor QUANTIZE = new OperatorDescriptor("quantize", "Quantize", TaskQueues.CPU,
            OperatorDescriptor.schemaFromJson("""
                    {"type": "object",
                     "properties": {"model": {"type": "string"},
                                    "calibration_samples": {"type": "integer", "minimum": 0}},
                     "required": ["model"],
                     "additionalProperties": false}
                    """), true);

    static final OperatorRegistry REGISTRY = registry();

    private TestSpecs() {}

    private static OperatorRegistry registry() {
        List<OperatorDescriptor> all = new ArrayList<>(BuiltInOperators.all());
        all.add(QUANTIZE);
        return OperatorRegistry.of(all);
    }

    static PipelineSpec load(String text) throws SpecException {
        return SpecLoader.load(text, REGISTRY, Set.of());
    }

    /** The errors loading {@code text} reports; fails if it loads. */
    static List<SpecError> errors(String text) {
        return errors(text, Set.of());
    }

    static List<SpecError> errors(String text, Set<String> runtimeParams) {
        SpecException e = catchThrowableOfType(() -> SpecLoader.load(text, REGISTRY, runtimeParams), SpecException.class);
        if (e == null) {
            throw new AssertionError("expected the spec to be rejected:\n" + text);
        }
        return e.errors();
    }

    static String resource(String path) {
        try (InputStream in = TestSpecs.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new AssertionError("missing test resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
