package dev.anvil.workflows.pipeline.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** compile's with-schema: precision int8 takes the calibration table an upstream quantize task published. */
class CompileSpecTest {
    @Test
    void int8TakesTheQuantizeTasksCalibrationTable() throws SpecException {
        PipelineSpec spec = TestSpecs.load("""
                pipeline: digits-edge-int8
                params: {model: m, calibration: c, evaluation: e}
                tasks:
                  quantize: {operator: quantize, with: {model: "${params.model}", dataset: "${params.calibration}"}}
                  compile: {operator: compile, upstream: [quantize],
                            with: {model: "${params.model}", target: tflite, precision: int8,
                                   calibration_table: "${tasks.quantize.outputs.calibration_table}",
                                   dataset: "${params.evaluation}"}}
                """);

        assertThat(spec.task("compile").upstream()).containsExactly("quantize");
    }

    @Test
    void aMisspeltTableFieldIsRefusedNamingTheAllowedOnes() {
        assertThatThrownBy(() -> TestSpecs.load("""
                pipeline: typo
                params: {model: m}
                tasks:
                  compile: {operator: compile, with: {model: "${params.model}", precision: int8, calibration: x}}
                """))
                .isInstanceOf(SpecException.class)
                .satisfies(e -> assertThat(((SpecException) e).errors().toString())
                        .contains("unknown field 'calibration'").contains("calibration_table"));
    }
}
