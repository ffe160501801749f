package dev.anvil.modelkit.compile.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The manifest beside a .plan, and the hardware check a worker makes before loading one (devices are made up). */
class EngineManifestTest {
    static final GpuDevice A100 = new GpuDevice("NVIDIA A100-SXM4-80GB", "8.0", "13.3", "13.3", "11.2.0");
    static final GpuDevice H100 = new GpuDevice("NVIDIA H100 80GB HBM3", "9.0", "13.3", "13.3", "11.2.0");
    static final byte[] PLAN = "not a real plan".getBytes(StandardCharsets.UTF_8);

    static EngineManifest builtOn(GpuDevice device) {
        return EngineManifest.of(PLAN, "ab".repeat(32), device, TensorRtPrecision.FP16,
                List.of(ShapeProfile.fixed("input_image", List.of(1L, 1L, 28L, 28L))),
                List.of(new TensorSpec("input_image", "kFLOAT", List.of(1L, 1L, 28L, 28L))),
                List.of(new TensorSpec("out", "kFLOAT", List.of(1L, 10L))));
    }

    @Test
    void theManifestRecordsTheHardwareAndThePlanAsJson() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode node = json.readTree(json.writeValueAsBytes(builtOn(A100)));
        assertThat(node.get("format").asText()).isEqualTo("anvil.tensorrt-engine/v1");
        assertThat(node.get("gpu_name").asText()).isEqualTo("NVIDIA A100-SXM4-80GB");
        assertThat(node.get("compute_capability").asText()).isEqualTo("8.0");
        assertThat(node.get("tensorrt_version").asText()).isEqualTo("11.2.0");
        assertThat(node.get("cuda_version").asText()).isEqualTo("13.3");
        assertThat(node.get("precision").asText()).isEqualTo("float16");
        assertThat(node.get("plan_sha256").asText())
                .isEqualTo("f7d181984f0935a4994a05d5d56cd3b3d92d4b1834f4b69685427fb7691d368f"); // sha256sum of the bytes
        assertThat(node.get("plan_size").asLong()).isEqualTo(PLAN.length);
        assertThat(node.get("profiles").get(0).get("opt").toString()).isEqualTo("[1,1,28,28]");
        assertThat(node.get("inputs").get(0).get("name").asText()).isEqualTo("input_image");
        assertThat(node.get("outputs").get(0).get("data_type").asText()).isEqualTo("kFLOAT");
        assertThat(json.readValue(json.writeValueAsBytes(builtOn(A100)), EngineManifest.class))
                .isEqualTo(builtOn(A100));
    }

    @Test
    void anEngineRunsWhereItWasBuilt() {
        assertThatCode(() -> builtOn(A100).refuseUnlessRunsOn(A100)).doesNotThrowAnyException();
        assertThatCode(() -> builtOn(A100).refuseUnlessDescribes(PLAN)).doesNotThrowAnyException();
    }

    @Test
    void anEngineMovedToOtherHardwareIsRefusedNamingEachDifference() {
        assertThatThrownBy(() -> builtOn(A100).refuseUnlessRunsOn(H100))
                .isInstanceOf(EngineRefusedException.class)
                .hasMessageContaining("was built for another GPU or TensorRT")
                .hasMessageContaining("GPU model NVIDIA A100-SXM4-80GB (this worker: NVIDIA H100 80GB HBM3)")
                .hasMessageContaining("compute capability 8.0 (this worker: 9.0)")
                .hasMessageNotContaining("TensorRT version 11.2.0")
                .hasMessageContaining("rebuild it (compile, target: tensorrt) on a worker with this GPU");
        GpuDevice newerTensorRt = new GpuDevice(A100.name(), "8.0", "13.3", "13.3", "11.3.0");
        assertThatThrownBy(() -> builtOn(A100).refuseUnlessRunsOn(newerTensorRt))
                .hasMessageContaining("TensorRT version 11.2.0 (this worker: 11.3.0)")
                .hasMessageNotContaining("compute capability 8.0");
        GpuDevice otherCuda = new GpuDevice(A100.name(), "8.0", "12.9", "13.3", "11.2.0");
        assertThatThrownBy(() -> builtOn(A100).refuseUnlessRunsOn(otherCuda))
                .hasMessageContaining("CUDA major version 13 (this worker: 12)");
    }

    @Test
    void aPlanThatIsNotTheManifestsIsRefused() {
        assertThatThrownBy(() -> builtOn(A100).refuseUnlessDescribes("another plan".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(EngineRefusedException.class)
                .hasMessageContaining("but its manifest describes " + EngineManifest.sha256(PLAN));
    }

    @Test
    void aDocumentOfAnotherFormatIsRefused() {
        EngineManifest m = builtOn(A100);
        EngineManifest other = new EngineManifest("anvil.calibration/v1", m.planSha256(), m.planSize(), m.onnxSha256(),
                m.gpuName(), m.computeCapability(), m.tensorrtVersion(), m.cudaVersion(), m.precision(), m.profiles(),
                m.inputs(), m.outputs());
        assertThatThrownBy(() -> other.refuseUnlessRunsOn(A100))
                .hasMessageContaining("format 'anvil.calibration/v1', expected anvil.tensorrt-engine/v1");
    }
}
