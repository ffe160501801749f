package dev.anvil.workflows.pipeline.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.pipeline.PipelinePlan;
import dev.anvil.workflows.pipeline.PlanBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** compile with target tensorrt: its with-fields, and the GPU queue its tasks are routed to. */
class TensorRtCompileSpecTest {
    static final String GPU_PIPELINE = """
            pipeline: digits-gpu
            params: {model: m, calibration: c, evaluation: e}
            tasks:
              quantize: {operator: quantize, with: {model: "${params.model}", dataset: "${params.calibration}"}}
              tflite: {operator: compile, with: {model: "${params.model}", target: tflite}}
              trt: {operator: compile, upstream: [quantize],
                    with: {model: "${params.model}", target: tensorrt, precision: int8,
                           calibration_table: "${tasks.quantize.outputs.calibration_table}",
                           shapes: {input_image: {min: [1, 1, 28, 28], opt: [8, 1, 28, 28], max: [32, 1, 28, 28]}},
                           workspace_mb: 2048, min_agreement: 0.99, dataset: "${params.evaluation}"}}
            """;

    @Test
    void aTensorrtCompileRunsOnTheGpuQueueAndIsNotCached() throws SpecException {
        PipelineSpec spec = TestSpecs.load(GPU_PIPELINE);
        OperatorRegistry registry = OperatorRegistry.builtIns();
        assertThat(registry.queueFor(spec.task("trt"))).isEqualTo(TaskQueues.GPU);
        assertThat(registry.queueFor(spec.task("tflite"))).isEqualTo(TaskQueues.CPU);
        assertThat(registry.queueFor(spec.task("quantize"))).isEqualTo(TaskQueues.CPU);
        assertThat(registry.cacheable(spec.task("trt"))).isFalse();
        OperatorDescriptor compile = registry.find("compile").orElseThrow();
        assertThat(compile.deterministicFor(Map.of("target", "tflite"))).isTrue();
        assertThat(compile.deterministicFor(Map.of("target", "tensorrt"))).isFalse();
        PipelinePlan plan = PlanBuilder.plan(spec, 1, registry, Map.of(), "tester");
        assertThat(plan.tasks()).filteredOn(t -> t.id().equals("trt")).singleElement()
                .satisfies(t -> assertThat(t.queue()).isEqualTo(TaskQueues.GPU));
    }

    @Test
    void aRouteToAnUnknownQueueIsRefused() {
        OperatorDescriptor d = new OperatorDescriptor("x", TaskQueues.CPU, Map.of(), true);
        assertThatThrownBy(() -> d.withQueueWhen("target", "tpu", "anvil-tpu", "TPUs", false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("queue route target=tpu: unknown task queue 'anvil-tpu'");
        OperatorDescriptor routed = d.withQueueWhen("target", "gpu", TaskQueues.GPU, "GPUs", false)
                .withHeartbeatTimeout(java.time.Duration.ofSeconds(30));
        // the route survives the other with* builders
        assertThat(routed.queueFor(Map.of("target", "gpu"))).isEqualTo(TaskQueues.GPU);
        assertThat(routed.queueFor(Map.of())).isEqualTo(TaskQueues.CPU);
    }

    @Test
    void aTensorrtCompileNamingTheCpuQueueIsRefused() {
        assertThatThrownBy(() -> TestSpecs.load("""
                pipeline: wrong-queue
                params: {model: m}
                default_args: {queue: anvil-cpu}
                tasks:
                  trt: {operator: compile, with: {model: "${params.model}", target: tensorrt}}
                """))
                .isInstanceOf(SpecException.class)
                .satisfies(e -> assertThat(((SpecException) e).errors().toString())
                        .contains("tasks.trt.queue")
                        .contains("'anvil-cpu' cannot run compile with target: tensorrt, which runs on anvil-gpu"
                                + " (TensorRT engines are built on GPU workers)")
                        .contains("set it to anvil-gpu"));
    }

    @Test
    void badTensorrtFieldsAreRefusedNamingTheField() {
        assertThat(errors("shapes: {input_image: [0, 1, 28, 28]}")).contains("tasks.trt.with.shapes");
        assertThat(errors("shapes: {input_image: {min: [1, 1, 28, 28], max: [8, 1, 28, 28]}}"))
                .contains("tasks.trt.with.shapes");
        assertThat(errors("workspace_mb: 4")).contains("tasks.trt.with.workspace_mb").contains("at least 16");
        assertThat(errors("min_agreement: 1.5")).contains("tasks.trt.with.min_agreement").contains("at most 1");
        assertThat(errors("target: tensorrt_fp16")).contains("tasks.trt.with.target").contains("must be one of [\"tflite\", \"tensorrt\"]");
        assertThat(errors("calibration: x")).contains("unknown field 'calibration'");
    }

    private static String errors(String field) {
        String target = field.startsWith("target:") ? "" : "target: tensorrt, ";
        try {
            TestSpecs.load("""
                    pipeline: bad
                    params: {model: m}
                    tasks:
                      trt: {operator: compile, with: {model: "${params.model}", %s%s}}
                    """.formatted(target, field));
        } catch (SpecException e) {
            return e.errors().toString();
        }
        throw new AssertionError("accepted: " + field);
    }
}
