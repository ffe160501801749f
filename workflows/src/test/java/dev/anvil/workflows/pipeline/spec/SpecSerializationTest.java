package dev.anvil.workflows.pipeline.spec;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.api.common.v1.Payloads;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Specs travel into workflow code as arguments, so Temporal's default converter must carry them intact. */
class SpecSerializationTest {
    @Test
    void aSpecSurvivesTemporalsDataConverter() throws SpecException {
        PipelineSpec spec = TestSpecs.load(TestSpecs.resource("/specs/fan-out-fan-in.yaml"));
        DataConverter converter = DefaultDataConverter.newDefaultInstance();

        Optional<Payloads> payloads = converter.toPayloads(spec);
        PipelineSpec back = converter.fromPayloads(0, payloads, PipelineSpec.class, PipelineSpec.class);

        assertThat(back).isEqualTo(spec);
        assertThat(back.tasks().keySet()).containsExactlyElementsOf(spec.tasks().keySet());
    }
}
