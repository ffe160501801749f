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

/** Shared fixtures: the built-in operator registry and spec loading helpers. */
final class TestSpecs {
    static final OperatorRegistry REGISTRY = registry();

    private TestSpecs() {}

    private static OperatorRegistry registry() {
        return OperatorRegistry.of(new ArrayList<>(BuiltInOperators.all()));
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
