package dev.anvil.workflows.pipeline.spec;

import static dev.anvil.workflows.pipeline.spec.TestSpecs.errors;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.util.Set;
import org.junit.jupiter.api.Test;

class SpecValidatorTest {
    @Test
    void unknownOperatorListsTheKnownOnes() {
        // every registered operator, sorted (the list grows as operators are added)
        java.util.List<String> known = TestSpecs.REGISTRY.names();
        assertThat(known).isSorted().contains("approval", "canary", "convert", "gate", "inspect", "noop", "quantize",
                "sleep", "validate");
        assertThat(errors("pipeline: p\ntasks: {a: {operator: no_such_operator}}")).containsExactly(new SpecError(
                "tasks.a.operator", "unknown operator 'no_such_operator'; known operators: " + String.join(", ", known)));
    }

    @Test
    void unknownUpstreamListsTheTasks() {
        assertThat(errors("pipeline: p\ntasks: {a: {operator: noop}, b: {operator: noop, upstream: [a, c]}}"))
                .containsExactly(new SpecError("tasks.b.upstream[1]", "unknown upstream task 'c'; tasks in this pipeline: a, b"));
    }

    @Test
    void unknownDependencyIsReportedUnderUpstream() {
        assertThat(errors("pipeline: p\ntasks: {b: {operator: noop, dependencies: [x]}}"))
                .containsExactly(new SpecError("tasks.b.upstream[0]", "unknown upstream task 'x'; tasks in this pipeline: b"));
    }

    @Test
    void selfDependencyAndRepeats() {
        assertThat(errors("pipeline: p\ntasks: {a: {operator: noop}, b: {operator: noop, upstream: [b, a, a]}}"))
                .containsExactly(
                        new SpecError("tasks.b.upstream[0]", "task 'b' depends on itself; remove it from its own upstream"),
                        new SpecError("tasks.b.upstream[2]", "upstream task 'a' is listed twice; remove the repeat"));
    }

    @Test
    void cycleNamesItsTasksInOrder() {
        assertThat(errors("""
                pipeline: p
                tasks:
                  start: {operator: noop}
                  a: {operator: noop, upstream: [start, c]}
                  b: {operator: noop, upstream: [a]}
                  c: {operator: noop, upstream: [b]}
                """)).containsExactly(new SpecError("tasks.a.upstream[1]",
                "cycle a -> b -> c -> a: these tasks wait for each other; remove one of these upstream links"));
    }

    @Test
    void reportsEachSeparateCycle() {
        assertThat(errors("""
                pipeline: p
                tasks:
                  a: {operator: noop, upstream: [b]}
                  b: {operator: noop, upstream: [a]}
                  x: {operator: noop, upstream: [y]}
                  y: {operator: noop, upstream: [x]}
                """)).extracting(SpecError::message).containsExactly(
                "cycle a -> b -> a: these tasks wait for each other; remove one of these upstream links",
                "cycle x -> y -> x: these tasks wait for each other; remove one of these upstream links");
    }

    @Test
    void taskOutputReferenceMustNameAnUpstreamTask() {
        assertThat(errors("""
                pipeline: p
                tasks:
                  a: {operator: inspect, with: {model: m}}
                  b: {operator: inspect, with: {model: m}}
                  c: {operator: inspect, upstream: [b], with: {model: "${tasks.a.outputs.model}"}}
                  d: {operator: inspect, with: {model: "${tasks.nope.outputs.model}"}}
                  e: {operator: inspect, with: {model: "${tasks.e.outputs.model}"}}
                """)).containsExactly(
                new SpecError("tasks.c.with.model", "${tasks.a.outputs.model}: task 'a' is not upstream of 'c', so its"
                        + " outputs may not exist yet; add 'a' to upstream of 'c'"),
                new SpecError("tasks.d.with.model", "unknown task 'nope' in ${tasks.nope.outputs.model}; tasks in this"
                        + " pipeline: a, b, c, d, e"),
                new SpecError("tasks.e.with.model", "${tasks.e.outputs.model}: a task cannot read its own outputs;"
                        + " reference an upstream task"));
    }

    @Test
    void transitiveUpstreamOutputsMayBeReferenced() {
        assertThatCode(() -> TestSpecs.load("""
                pipeline: p
                tasks:
                  a: {operator: inspect, with: {model: m}}
                  b: {operator: noop, upstream: [a]}
                  c: {operator: inspect, upstream: [b], with: {model: "${tasks.a.outputs.model}"}}
                """)).doesNotThrowAnyException();
    }

    @Test
    void paramsMustBeDeclaredOrSuppliedAtRunTime() {
        String spec = """
                pipeline: p
                params: {samples: 8}
                tasks: {a: {operator: inspect, with: {model: "${params.model}"}}}
                """;

        assertThat(errors(spec)).containsExactly(new SpecError("tasks.a.with.model", "unknown param 'model' in"
                + " ${params.model}; declare it under params (declared: samples) or pass it when starting the run"));
        assertThat(SpecValidator.validate(parse(spec), TestSpecs.REGISTRY, Set.of("model"))).isEmpty();
    }

    @Test
    void badReferenceSyntax() {
        assertThat(errors("""
                pipeline: p
                params: {x: 1}
                tasks:
                  a:
                    operator: quantize
                    with:
                      model: "s3://${env.HOME}/${params.x"
                      samples: "${params}"
                  b:
                    operator: inspect
                    with: {model: "${run.attempt}-${tasks.a.model}"}
                """)).containsExactly(
                new SpecError("tasks.a.with.model", "unknown reference '${env.HOME}'; references start with params.,"
                        + " tasks. or run., e.g. ${params.model}; write '$${' for a literal '${'"),
                new SpecError("tasks.a.with.model", "unclosed '${' in 's3://${env.HOME}/${params.x'; close the"
                        + " reference with '}' or write '$${' for a literal '${'"),
                new SpecError("tasks.a.with.samples", "bad reference '${params}'; write ${params.NAME}"),
                new SpecError("tasks.b.with.model", "bad reference '${run.attempt}'; the run offers ${run.id} and"
                        + " ${run.logical_date}"),
                new SpecError("tasks.b.with.model", "bad reference '${tasks.a.model}'; write ${tasks.TASK.outputs.NAME}"));
    }

    @Test
    void runReferencesAndEscapesAreAccepted() {
        assertThatCode(() -> TestSpecs.load("""
                pipeline: p
                tasks: {a: {operator: inspect, with: {model: "s3://runs/${run.id}/${run.logical_date}/$${literal}"}}}
                """)).doesNotThrowAnyException();
    }

    @Test
    void referencesInsideNestedValuesAreChecked() {
        OperatorDescriptor open = new OperatorDescriptor("open", "anvil-cpu",
                OperatorDescriptor.schemaFromJson("{\"type\": \"object\"}"), false);
        PipelineSpec spec = parse("pipeline: p\ntasks: {a: {operator: open, with: {x: {y: [ok, \"${params.q}\"]}}}}");

        assertThat(SpecValidator.validate(spec, OperatorRegistry.of(java.util.List.of(open)), Set.of()))
                .extracting(SpecError::path).containsExactly("tasks.a.with.x.y[1]");
    }

    @Test
    void withMustSatisfyTheOperatorSchema() {
        assertThat(errors("""
                pipeline: p
                tasks:
                  inspect: {operator: inspect}
                  typed: {operator: inspect, with: {model: 42}}
                  nap: {operator: sleep, with: {seconds: 5000, snore: true}}
                  idle: {operator: noop, with: {x: 1}}
                  q: {operator: quantize, with: {model: m, samples: 2.5}}
                """)).containsExactly(
                new SpecError("tasks.inspect.with.model", "missing required field 'model'; add it"),
                new SpecError("tasks.typed.with.model", "must be of type string, got integer 42"),
                new SpecError("tasks.nap.with.seconds", "must be at most 3600, got integer 5000"),
                new SpecError("tasks.nap.with.snore", "unknown field 'snore'; allowed fields: seconds"),
                new SpecError("tasks.idle.with.x", "unknown field 'x'; allowed fields: none"),
                new SpecError("tasks.q.with.samples", "must be of type integer, got number 2.5"));
    }

    @Test
    void aWholeReferenceIsNotTypeCheckedUntilRunTime() {
        assertThatCode(() -> TestSpecs.load("""
                pipeline: p
                params: {s: 3}
                tasks: {nap: {operator: sleep, with: {seconds: "${params.s}"}}}
                """)).doesNotThrowAnyException();
    }

    @Test
    void reportsEveryProblemAtOnce() {
        assertThat(errors("""
                pipeline: p
                schedule: "61 * * * *"
                tasks:
                  a: {operator: magic, retry_delay: soon}
                  b: {operator: noop, upstream: [a, ghost], trigger_rule: sometimes}
                  c: {operator: inspect, with: {model: "${tasks.b.outputs.model}"}}
                """)).extracting(SpecError::path).containsExactly(
                "schedule", "tasks.a.retry_delay", "tasks.b.trigger_rule",
                "tasks.a.operator", "tasks.b.upstream[1]", "tasks.c.with.model");
    }

    private static PipelineSpec parse(String text) {
        try {
            return SpecParser.parse(text);
        } catch (SpecException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }
}
