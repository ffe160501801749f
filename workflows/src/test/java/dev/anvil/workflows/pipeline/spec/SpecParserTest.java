package dev.anvil.workflows.pipeline.spec;

import static dev.anvil.workflows.pipeline.spec.TestSpecs.errors;
import static dev.anvil.workflows.pipeline.spec.TestSpecs.load;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SpecParserTest {
    private static final String ISSUE_EXAMPLE = """
            pipeline: mnist-int8
            description: quantise and validate the digit classifier
            schedule: "@weekly"
            catchup: false
            params: {model: "s3://m/mnist.onnx", calibration_samples: 256}
            default_args: {retries: 2, retry_delay: 30s, execution_timeout: 1h}
            tasks:
              inspect:  {operator: inspect, with: {model: "${params.model}"}}
              quantize: {operator: quantize, upstream: [inspect], with: {model: "${tasks.inspect.outputs.model}"}}
              report:   {operator: noop, upstream: [quantize], trigger_rule: all_done}
            """;

    @Test
    void readsTheIssueExample() throws SpecException {
        PipelineSpec spec = SpecParser.parse(ISSUE_EXAMPLE);

        assertThat(spec.name()).isEqualTo("mnist-int8");
        assertThat(spec.description()).isEqualTo("quantise and validate the digit classifier");
        assertThat(spec.schedule()).contains(new Schedule("@weekly"));
        assertThat(spec.catchup()).isFalse();
        assertThat(spec.params()).containsExactly(Map.entry("model", "s3://m/mnist.onnx"), Map.entry("calibration_samples", 256));
        assertThat(spec.tasks().keySet()).containsExactly("inspect", "quantize", "report");
        TaskSpec quantize = spec.task("quantize");
        assertThat(quantize.operator()).isEqualTo("quantize");
        assertThat(quantize.upstream()).containsExactly("inspect");
        assertThat(quantize.with()).containsExactly(Map.entry("model", "${tasks.inspect.outputs.model}"));
        assertThat(spec.task("report").triggerRule()).isEqualTo(TriggerRule.ALL_DONE);
    }

    @Test
    void defaultArgsApplyUnlessTheTaskOverrides() throws SpecException {
        PipelineSpec spec = load("""
                pipeline: p
                default_args: {retries: 2, retry_delay: 30s, execution_timeout: 1h, queue: anvil-gpu, trigger_rule: all_done, cache: false}
                tasks:
                  a: {operator: noop}
                  b: {operator: noop, retries: 0, retry_delay: 5m, execution_timeout: 10m, queue: anvil-cpu,
                      trigger_rule: one_failed, cache: true}
                """);

        TaskSpec a = spec.task("a");
        assertThat(a.retries()).isEqualTo(2);
        assertThat(a.retryDelay()).isEqualTo(Duration.ofSeconds(30));
        assertThat(a.executionTimeout()).isEqualTo(Duration.ofHours(1));
        assertThat(a.queue()).contains("anvil-gpu");
        assertThat(a.triggerRule()).isEqualTo(TriggerRule.ALL_DONE);
        assertThat(a.cache()).isFalse();
        assertThat(spec.task("b")).isEqualTo(new TaskSpec("b", "noop", List.of(), TriggerRule.ONE_FAILED, 0,
                Duration.ofMinutes(5), Duration.ofMinutes(10), Optional.of("anvil-cpu"), Map.of(), true));
    }

    @Test
    void builtInDefaultsWithoutDefaultArgs() throws SpecException {
        PipelineSpec spec = load("pipeline: p\ntasks: {a: {operator: noop}}");

        assertThat(spec.schedule()).isEmpty();
        assertThat(spec.description()).isEmpty();
        assertThat(spec.defaultArgs()).isEqualTo(DefaultArgs.BUILT_IN);
        assertThat(spec.task("a")).isEqualTo(new TaskSpec("a", "noop", List.of(), TriggerRule.ALL_SUCCESS, 0,
                Duration.ofMinutes(5), Duration.ofHours(1), Optional.empty(), Map.of(), true));
        // No queue in the spec: the operator's queue applies.
        assertThat(TestSpecs.REGISTRY.queueFor(spec.task("a"))).isEqualTo("anvil-cpu");
    }

    @Test
    void cachingNeedsBothTheSpecAndADeterministicOperator() throws SpecException {
        PipelineSpec spec = load("""
                pipeline: p
                tasks:
                  i: {operator: inspect, with: {model: m}}
                  j: {operator: inspect, cache: false, with: {model: m}}
                  n: {operator: noop}
                """);

        assertThat(TestSpecs.REGISTRY.cacheable(spec.task("i"))).isTrue();
        assertThat(TestSpecs.REGISTRY.cacheable(spec.task("j"))).isFalse();
        assertThat(TestSpecs.REGISTRY.cacheable(spec.task("n"))).isFalse();
    }

    @Test
    void dependenciesIsAnAliasForUpstream() throws SpecException {
        PipelineSpec spec = load("pipeline: p\ntasks: {a: {operator: noop}, b: {operator: noop, dependencies: [a]}}");

        assertThat(spec.task("b").upstream()).containsExactly("a");
    }

    @Test
    void jsonIsReadLikeYaml() throws SpecException {
        PipelineSpec spec = load("""
                {"pipeline": "p", "tasks": {"a": {"operator": "noop"}, "b": {"operator": "noop", "upstream": ["a"]}}}
                """);

        assertThat(spec.tasks().keySet()).containsExactly("a", "b");
    }

    @ParameterizedTest
    @CsvSource({
        "all_success, ALL_SUCCESS", "all_failed, ALL_FAILED", "all_done, ALL_DONE", "one_success, ONE_SUCCESS",
        "one_failed, ONE_FAILED", "none_failed, NONE_FAILED", "none_skipped, NONE_SKIPPED"
    })
    void readsEveryTriggerRule(String written, TriggerRule expected) throws SpecException {
        PipelineSpec spec = load("pipeline: p\ntasks: {a: {operator: noop, trigger_rule: " + written + "}}");

        assertThat(spec.task("a").triggerRule()).isEqualTo(expected);
        assertThat(expected.specName()).isEqualTo(written);
    }

    @ParameterizedTest
    @CsvSource({
        "30s, PT30S", "5m, PT5M", "1h, PT1H", "1h30m, PT1H30M", "2d, PT48H", "1d2h3m4s, PT26H3M4S",
        "PT30S, PT30S", "P1D, PT24H", "PT1H30M, PT1H30M", "0s, PT0S", "90, PT1M30S"
    })
    void readsDurations(String written, Duration expected) throws SpecException {
        PipelineSpec spec = load("pipeline: p\ntasks: {a: {operator: noop, retry_delay: " + written + "}}");

        assertThat(spec.task("a").retryDelay()).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"30", "abc", "1x", "30 s", "m5", "1m1h", "-PT5S", "PTX", "''", "1.5h", "-5"})
    void rejectsBadDurations(String written) {
        assertThat(errors("pipeline: p\ntasks: {a: {operator: noop, retry_delay: \"" + written + "\"}}"))
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.path()).isEqualTo("tasks.a.retry_delay");
                    assertThat(e.message()).startsWith("bad duration '" + written + "'; write a duration such as 30s, 5m");
                });
    }

    @Test
    void rejectsAZeroTimeout() {
        assertThat(errors("pipeline: p\ntasks: {a: {operator: noop, execution_timeout: 0s}}")).containsExactly(
                new SpecError("tasks.a.execution_timeout",
                        "must be longer than 0; write a duration such as 30s, 5m, 1h, 1h30m, 2d or ISO-8601 PT30S"));
    }

    @Test
    void reportsMalformedYamlWithLineAndColumn() {
        assertThat(errors("pipeline: p\ntasks:\n  a: {operator: noop\n  b: [\n")).containsExactly(new SpecError("",
                "malformed YAML/JSON at line 4, column 4: while parsing a flow mapping: expected ',' or '}', but got :;"
                        + " fix the syntax there (indentation, quotes, brackets)"));
        assertThat(errors("pipeline: p\ntasks:\n\ta: 1\n")).singleElement().satisfies(e -> assertThat(e.message())
                .startsWith("malformed YAML/JSON at line 3, column 1: while scanning for the next token: found character"
                        + " '\\t(TAB)' that cannot start any token."));
    }

    @Test
    void reportsMalformedJsonWithLineAndColumn() {
        assertThat(errors("{\"pipeline\": \"p\",\n \"tasks\": [}\n")).containsExactly(new SpecError("",
                "malformed YAML/JSON at line 2, column 12: while parsing a flow node: expected the node content, but"
                        + " found '}'; fix the syntax there (indentation, quotes, brackets)"));
    }

    @Test
    void reportsDuplicateKeys() {
        assertThat(errors("pipeline: p\ntasks: {a: {operator: noop}}\npipeline: q\n")).containsExactly(
                new SpecError("", "key 'pipeline' appears twice at line 3, column 11; keep only one"));
    }

    @Test
    void rejectsAnEmptySpecAndWrongTopLevelTypes() {
        assertThat(errors("")).containsExactly(new SpecError("", "the spec is empty; it needs at least 'pipeline' and 'tasks'"));
        assertThat(errors("- a\n- b\n")).containsExactly(new SpecError("",
                "the spec must be a mapping with 'pipeline' and 'tasks' at the top, got a list"));
        assertThat(errors("just text")).containsExactly(new SpecError("",
                "the spec must be a mapping with 'pipeline' and 'tasks' at the top, got 'just text'"));
    }

    @Test
    void requiresPipelineAndTasks() {
        assertThat(errors("description: nothing else")).containsExactly(
                new SpecError("pipeline", "missing; name the pipeline, e.g. pipeline: mnist-int8"),
                new SpecError("tasks", "missing; add a mapping of task id to task, e.g. tasks: {inspect: {operator: inspect}}"));
        assertThat(errors("pipeline: p\ntasks: {}")).containsExactly(
                new SpecError("tasks", "is empty; a pipeline needs at least one task"));
        assertThat(errors("pipeline: p\ntasks: [a, b]")).containsExactly(new SpecError("tasks",
                "must be a mapping of task id to task, e.g. {inspect: {operator: inspect}}, got a list"));
    }

    @Test
    void rejectsUnknownFieldsListingTheAllowedOnes() {
        assertThat(errors("""
                pipeline: p
                start_date: 2026-01-01
                default_args: {owner: me}
                tasks: {a: {operator: noop, retry: 3}}
                """)).containsExactly(
                new SpecError("start_date", "unknown field 'start_date' in the pipeline; allowed fields: pipeline,"
                        + " description, schedule, catchup, max_active_runs, params, default_args, tasks"),
                new SpecError("default_args.owner", "unknown field 'owner' in default_args; allowed fields: retries,"
                        + " retry_delay, execution_timeout, trigger_rule, queue, cache"),
                new SpecError("tasks.a.retry", "unknown field 'retry' in task 'a'; allowed fields: operator, upstream,"
                        + " dependencies, trigger_rule, retries, retry_delay, execution_timeout, queue, with, cache"));
    }

    @Test
    void rejectsBadNames() {
        assertThat(errors("pipeline: Bad Name\ntasks: {1st: {operator: noop}}")).containsExactly(
                new SpecError("pipeline", "bad pipeline name 'Bad Name'; use 1-63 lower-case letters, digits, '_' or"
                        + " '-', starting with a letter or digit, e.g. mnist-int8"),
                new SpecError("tasks.1st", "bad task id '1st'; use 1-63 letters, digits, '_' or '-', starting with a"
                        + " letter or '_'"));
    }

    @Test
    void rejectsBadTaskFields() {
        assertThat(errors("""
                pipeline: p
                tasks:
                  a: {upstream: b}
                  b: {operator: noop, trigger_rule: all_sucess, queue: anvil-tpu, retries: -1, cache: maybe, with: [1]}
                  c: noop
                """)).containsExactly(
                new SpecError("tasks.a.operator", "missing; name the operator this task runs, e.g. operator: noop"),
                new SpecError("tasks.a.upstream", "must be a list, e.g. [inspect], got 'b'"),
                new SpecError("tasks.b.trigger_rule", "unknown trigger rule 'all_sucess'; valid rules: all_success,"
                        + " all_failed, all_done, one_success, one_failed, none_failed, none_skipped"),
                new SpecError("tasks.b.retries", "must be 0 or more, got -1; use 0 for no retries"),
                new SpecError("tasks.b.queue", "unknown queue 'anvil-tpu'; valid queues: anvil-cpu, anvil-gpu"),
                new SpecError("tasks.b.with", "must be a mapping, e.g. {model: \"${params.model}\"}, got a list"),
                new SpecError("tasks.b.cache", "must be true or false, got 'maybe'"),
                new SpecError("tasks.c", "must be a mapping with at least an operator, e.g. {operator: noop}, got 'noop'"));
    }

    @Test
    void rejectsNonIntegerRetriesAndBothUpstreamSpellings() {
        assertThat(errors("""
                pipeline: p
                tasks:
                  a: {operator: noop, retries: 1.5}
                  b: {operator: noop, upstream: [a], dependencies: [a]}
                """)).containsExactly(
                new SpecError("tasks.a.retries", "must be a whole number of retries (0 or more), got 1.5"),
                new SpecError("tasks.b.dependencies", "'dependencies' is another name for 'upstream'; use only one of them"));
    }

    @Test
    void readsMaxActiveRunsAndLeavesItUnboundWhenAbsent() throws SpecException {
        PipelineSpec bounded = SpecParser.parse("""
                pipeline: p
                max_active_runs: 2
                tasks:
                  a: {operator: noop}
                """);
        PipelineSpec unbounded = SpecParser.parse("""
                pipeline: p
                tasks:
                  a: {operator: noop}
                """);

        assertThat(bounded.maxActiveRuns()).isEqualTo(2);
        assertThat(unbounded.maxActiveRuns()).isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0      | must be 1 or more, got 0; leave it out for no bound",
            "-1     | must be 1 or more, got -1; leave it out for no bound",
            "two    | must be a whole number of runs (1 or more), got 'two'; leave it out for no bound",
            "1.5    | must be a whole number of runs (1 or more), got 1.5; leave it out for no bound",
            "[1]    | must be a whole number of runs (1 or more), got a list; leave it out for no bound"})
    void rejectsMaxActiveRunsThatIsNotAWholeNumberOfOneOrMore(String value, String message) {
        assertThat(errors("""
                pipeline: p
                max_active_runs: %s
                tasks:
                  a: {operator: noop}
                """.formatted(value))).containsExactly(new SpecError("max_active_runs", message));
    }

    @Test
    void parseThrowsWithTheErrorsInItsMessage() {
        assertThatThrownBy(() -> SpecParser.parse("pipeline: p"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("invalid pipeline spec (1 problem)")
                .hasMessageContaining("tasks: missing;");
    }
}
