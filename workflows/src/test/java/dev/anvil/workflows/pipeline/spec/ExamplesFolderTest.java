package dev.anvil.workflows.pipeline.spec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every pipeline in the top-level examples/ folder parses, validates and satisfies the published schema. */
class ExamplesFolderTest {
    static final Path EXAMPLES = Path.of("..", "examples");

    static List<Path> examples() throws IOException {
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            List<Path> yaml = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
            assertThat(yaml).as("examples in " + EXAMPLES.toAbsolutePath()).isNotEmpty();
            return yaml;
        }
    }

    @ParameterizedTest
    @MethodSource("examples")
    void parsesValidatesAndSatisfiesTheSchema(Path file) throws Exception {
        String text = Files.readString(file);

        PipelineSpec spec = SpecLoader.load(text, TestSpecs.REGISTRY, Set.of());

        assertThat(Dag.of(spec).topologicalOrder()).hasSameSizeAs(spec.tasks().keySet());
        assertThat(WithValidator.validate(WithValidator.compile(TestSpecs.resource(BuiltInOperators.PIPELINE_SCHEMA)),
                new YAMLMapper().readValue(text, Object.class), "")).isEmpty();
    }

    /**
     * Every drift detection makes a retraining run, so the retraining example bounds its active runs the way
     * docs/retraining.md recommends (its "One retraining at a time" snippet), and the loaded spec carries it.
     */
    @Test
    void theRetrainingExampleBoundsItsActiveRunsAsTheDocsRecommend() throws Exception {
        Matcher recommended = Pattern.compile("pipeline: retrain-digits\\nmax_active_runs: (\\d+)")
                .matcher(Files.readString(Path.of("..", "docs", "retraining.md")));
        assertThat(recommended.find()).as("docs/retraining.md shows retrain-digits with max_active_runs").isTrue();

        PipelineSpec spec = SpecLoader.load(Files.readString(EXAMPLES.resolve("retrain-digits.yaml")),
                TestSpecs.REGISTRY, Set.of());

        assertThat(spec.maxActiveRuns()).isEqualTo(Integer.valueOf(recommended.group(1)));
    }
}
