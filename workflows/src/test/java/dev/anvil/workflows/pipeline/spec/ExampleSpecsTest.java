package dev.anvil.workflows.pipeline.spec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ExampleSpecsTest {
    @ParameterizedTest
    @ValueSource(strings = {"mnist-int8.yaml", "fan-out-fan-in.yaml", "nightly-smoke.json", "ad-hoc-inspect.yaml",
            "train-digits.yaml"})
    void everyExampleParsesAndValidates(String file) throws SpecException {
        Set<String> runtime = file.equals("ad-hoc-inspect.yaml") ? Set.of("model") : Set.of();

        PipelineSpec spec = SpecLoader.load(TestSpecs.resource("/specs/" + file), TestSpecs.REGISTRY, runtime);

        assertThat(spec.tasks()).isNotEmpty();
        assertThat(Dag.of(spec).topologicalOrder()).hasSameSizeAs(spec.tasks().keySet());
    }

    @Test
    void fanOutFanInReadsAsWritten() throws SpecException {
        PipelineSpec spec = TestSpecs.load(TestSpecs.resource("/specs/fan-out-fan-in.yaml"));

        assertThat(spec.schedule()).contains(new Schedule("0 3 * * 1"));
        assertThat(spec.catchup()).isTrue();
        assertThat(spec.task("int8").queue()).contains("anvil-gpu");
        assertThat(spec.task("int8").executionTimeout()).isEqualTo(Duration.ofHours(4));
        assertThat(spec.task("fp16").executionTimeout()).isEqualTo(Duration.ofHours(2));
        assertThat(spec.task("settle").retries()).isZero();
        assertThat(spec.task("fp16").retries()).isEqualTo(1);
        assertThat(spec.task("join").upstream()).containsExactly("int8", "fp16", "settle");
        assertThat(Dag.of(spec).downstreamClosure("fp16")).containsExactly("fp16", "join");
    }

    @Test
    void generatedFiveHundredTaskChainValidates() throws SpecException {
        StringBuilder yaml = new StringBuilder("pipeline: chain-500\nparams: {model: m}\ntasks:\n");
        yaml.append("  t0: {operator: inspect, with: {model: \"${params.model}\"}}\n");
        for (int i = 1; i < 500; i++) {
            yaml.append("  t").append(i).append(": {operator: inspect, upstream: [t").append(i - 1)
                    .append("], with: {model: \"${tasks.t0.outputs.model}\"}}\n");
        }

        PipelineSpec spec = TestSpecs.load(yaml.toString());

        assertThat(spec.tasks()).hasSize(500);
        assertThat(Dag.of(spec).topologicalOrder()).containsExactlyElementsOf(spec.tasks().keySet());
    }

    @Test
    void generatedFiveHundredTaskFanOutValidates() throws SpecException {
        List<String> middle = new ArrayList<>();
        StringBuilder yaml = new StringBuilder("pipeline: fan-500\ntasks:\n  start: {operator: noop}\n");
        for (int i = 0; i < 498; i++) {
            middle.add("m" + i);
            yaml.append("  m").append(i).append(": {operator: sleep, upstream: [start], with: {seconds: 0}}\n");
        }
        yaml.append("  join: {operator: noop, trigger_rule: all_done, upstream: ").append(middle).append("}\n");

        PipelineSpec spec = TestSpecs.load(yaml.toString());

        assertThat(spec.tasks()).hasSize(500);
        assertThat(Dag.of(spec).downstreamClosure("m3")).containsExactly("m3", "join");
    }

    /** Keeps the served schema in step with what the parser accepts. */
    @Test
    void publishedSchemaMatchesTheParser() throws Exception {
        JsonNode schema = new ObjectMapper().readTree(TestSpecs.resource("/schemas/pipeline.json"));

        assertThat(schema.get("$schema").asText()).isEqualTo("https://json-schema.org/draft/2020-12/schema");
        assertThat(names(schema.get("properties"))).containsExactlyElementsOf(SpecParser.TOP_FIELDS);
        assertThat(names(schema.at("/properties/default_args/properties"))).containsExactlyElementsOf(SpecParser.DEFAULT_ARG_FIELDS);
        assertThat(names(schema.at("/$defs/task/properties"))).containsExactlyElementsOf(SpecParser.TASK_FIELDS);
        assertThat(schema.at("/$defs/trigger_rule/enum")).extracting(JsonNode::asText)
                .containsExactlyElementsOf(TriggerRule.specNames());
        assertThat(schema.at("/$defs/queue/enum")).extracting(JsonNode::asText).containsExactlyElementsOf(SpecParser.QUEUES);
        assertThat(schema.at("/properties/pipeline/pattern").asText()).isEqualTo("^" + SpecParser.PIPELINE_NAME.pattern() + "$");
        assertThat(schema.at("/properties/tasks/propertyNames/pattern").asText())
                .isEqualTo("^" + SpecParser.TASK_ID.pattern() + "$");
        List<String> presets = new ArrayList<>(List.of("none", Schedule.ONCE));
        presets.addAll(Schedule.PRESETS.keySet());
        assertThat(schema.at("/properties/schedule/anyOf/1/enum")).extracting(JsonNode::asText)
                .containsExactlyInAnyOrderElementsOf(presets);
    }

    /** The operators' with schemas live in the published schema only; editors see what the validator checks. */
    @Test
    void publishedSchemaDescribesEveryOperatorsWith() throws Exception {
        JsonNode schema = new ObjectMapper().readTree(TestSpecs.resource(BuiltInOperators.PIPELINE_SCHEMA));
        List<String> operators = BuiltInOperators.all().stream().map(OperatorDescriptor::name).toList();

        assertThat(names(schema.at("/$defs/operators"))).containsExactlyElementsOf(operators);
        assertThat(schema.at("/$defs/task/properties/operator/enum")).extracting(JsonNode::asText)
                .containsExactlyElementsOf(operators);
        List<String> dispatched = new ArrayList<>();
        for (JsonNode branch : schema.at("/$defs/task/allOf")) {
            String operator = branch.at("/if/properties/operator/const").asText();
            dispatched.add(operator);
            assertThat(branch.at("/if/required").toString()).isEqualTo("[\"operator\"]");
            assertThat(branch.at("/then/properties/with/$ref").asText()).isEqualTo("#/$defs/operators/" + operator);
        }
        assertThat(dispatched).containsExactlyElementsOf(operators);
        for (OperatorDescriptor op : BuiltInOperators.all()) {
            assertThat((JsonNode) new ObjectMapper().valueToTree(op.withSchema()))
                    .as(op.name()).isEqualTo(schema.at("/$defs/operators/" + op.name()));
        }
    }

    /** Read the way Anvil reads it (whole references left for run time), the schema accepts every example. */
    @ParameterizedTest
    @ValueSource(strings = {"mnist-int8.yaml", "fan-out-fan-in.yaml", "nightly-smoke.json", "ad-hoc-inspect.yaml",
            "train-digits.yaml"})
    void everyExampleSatisfiesThePublishedSchema(String file) {
        assertThat(WithValidator.validate(publishedSchema(), yaml(TestSpecs.resource("/specs/" + file)), "")).isEmpty();
    }

    @Test
    void publishedSchemaFindsBadWithBlocksWhereTheValidatorDoes() {
        String spec = """
                pipeline: p
                tasks:
                  nap: {operator: sleep, with: {seconds: 5000, snore: true}}
                  q: {operator: quantize, with: {model: m, mode: int4}}
                  i: {operator: inspect, with: {}}
                """;

        assertThat(WithValidator.validate(publishedSchema(), yaml(spec), "")).containsExactlyInAnyOrderElementsOf(
                TestSpecs.errors(spec));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "two", "1.5"})
    void publishedSchemaRefusesMaxActiveRunsWhereTheParserDoes(String value) {
        String spec = """
                pipeline: p
                max_active_runs: %s
                tasks:
                  a: {operator: noop}
                """.formatted(value);

        assertThat(WithValidator.validate(publishedSchema(), yaml(spec), "")).extracting(SpecError::path)
                .containsExactly("max_active_runs");
        assertThat(TestSpecs.errors(spec)).extracting(SpecError::path).containsExactly("max_active_runs");
        assertThat(WithValidator.validate(publishedSchema(), yaml(spec.replace(value, "3")), "")).isEmpty();
    }

    private static com.networknt.schema.Schema publishedSchema() {
        return WithValidator.compile(TestSpecs.resource(BuiltInOperators.PIPELINE_SCHEMA));
    }

    private static Object yaml(String text) {
        try {
            return new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readValue(text, Object.class);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
