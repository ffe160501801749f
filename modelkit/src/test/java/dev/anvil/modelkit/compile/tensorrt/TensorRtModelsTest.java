package dev.anvil.modelkit.compile.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.compile.CnnMnistInt8Fixture;
import dev.anvil.modelkit.onnx.ModelSignature;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.quantize.CalibrationTable;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The model TensorRT parses for each precision, on cnn_mnist and its calibration table (no GPU needed). */
class TensorRtModelsTest {
    @TempDir
    static Path dir;
    static CnnMnistInt8Fixture fx;

    @BeforeAll
    static void prepare() throws Exception {
        fx = CnnMnistInt8Fixture.prepare(dir);
    }

    @Test
    void float32IsTheModelAsGiven() throws Exception {
        OnnxModel model = OnnxModel.read(SharedData.cnnMnist());
        TensorRtModels.Prepared p = TensorRtModels.prepare(model, TensorRtPrecision.FP32, null);
        assertThat(p.model()).isSameAs(model);
        // cnn_mnist's batch is symbolic: TensorRT needs its range declared
        ModelSignature s = ModelSignature.of(model.build());
        assertThatThrownBy(() -> ShapeProfiles.derive(s, Map.of()))
                .hasMessageContaining("input 'input_image' has dynamic dimensions [?, 1, 28, 28]");
        assertThat(ShapeProfiles.derive(s, Map.of("input_image", java.util.List.of(1, 1, 28, 28))))
                .containsExactly(ShapeProfile.fixed("input_image", java.util.List.of(1L, 1L, 28L, 28L)));
    }

    @Test
    void float16ConvertsTheWeightsAndKeepsFloat32InputsAndOutputs() throws Exception {
        OnnxModel model = OnnxModel.read(fx.float13);
        TensorRtModels.Prepared p = TensorRtModels.prepare(model, TensorRtPrecision.FP16, null);
        ModelSignature s = ModelSignature.of(p.model().build());
        assertThat(s.inputs().get(0).elementType()).isEqualTo("float32");
        assertThat(s.outputs().get(0).elementType()).isEqualTo("float32");
        assertThat(p.model().graph().proto().getInitializerList()).anyMatch(
                t -> t.getDataType() == TensorProto.DataType.FLOAT16_VALUE);
        assertThat(p.how()).startsWith("converted to float16");
        // the given model is not changed
        assertThat(model.graph().proto().getInitializerList()).noneMatch(
                t -> t.getDataType() == TensorProto.DataType.FLOAT16_VALUE);
    }

    @Test
    void int8FromTheTableIsSymmetricInt8Qdq() throws Exception {
        TensorRtModels.Prepared p = TensorRtModels.prepare(OnnxModel.read(fx.float13), TensorRtPrecision.INT8, fx.table);
        assertThat(TensorRtModels.isQdq(p.model())).isTrue();
        long qdq = p.model().graph().proto().getNodeList().stream()
                .filter(n -> n.getOpType().equals("QuantizeLinear")).count();
        assertThat(qdq).isGreaterThanOrEqualTo(4);
        // what TensorRT takes: int8, zero point 0 (checked by the same rule a given QDQ model goes through)
        TensorRtModels.refuseUnlessSymmetricInt8(p.model());
        for (NodeProto n : p.model().graph().proto().getNodeList()) {
            if (n.getOpType().equals("QuantizeLinear") && n.getInputCount() > 2) {
                assertThat(p.model().graph().initializer(n.getInput(2)).orElseThrow().getDataType())
                        .isEqualTo(TensorProto.DataType.INT8_VALUE);
            }
        }
    }

    @Test
    void aCalibrationTableOfAnotherModelIsRefusedNamingTheMissingTensors() {
        Map<String, CalibrationTable.Range> renamed = new LinkedHashMap<>();
        fx.table.tensors().forEach((k, v) -> renamed.put("other_model/" + k, v));
        CalibrationTable other = new CalibrationTable(CalibrationTable.FORMAT, "0".repeat(64), "percentile", 99.999,
                256, renamed);
        assertThatThrownBy(() -> TensorRtModels.prepare(OnnxModel.read(fx.float13), TensorRtPrecision.INT8, other))
                .isInstanceOf(EngineRefusedException.class)
                .hasMessageContaining("the calibration table has no range for")
                .hasMessageContaining("input_image")
                .hasMessageContaining("measured on model " + "0".repeat(64))
                .hasMessageContaining("calibrate this model");
    }

    @Test
    void anvilsDefaultUint8QdqIsRefusedSayingHowToQuantizeForTensorRt() throws Exception {
        Path u8 = dir.resolve("u8.onnx");
        fx.writeOnnxInt8(u8); // the quantize operator's defaults: u8 asymmetric activations
        assertThatThrownBy(() -> TensorRtModels.prepare(OnnxModel.read(u8), TensorRtPrecision.INT8, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("TensorRT takes int8 Q/DQ with zero point 0 only")
                .hasMessageContaining("UINT8")
                .hasMessageContaining("activation_type: s8");
        assertThatThrownBy(() -> TensorRtModels.prepare(OnnxModel.read(u8), TensorRtPrecision.FP32, null))
                .hasMessageContaining("the model is quantised");
        assertThatThrownBy(() -> TensorRtModels.prepare(OnnxModel.read(u8), TensorRtPrecision.INT8, fx.table))
                .hasMessageContaining("already quantised");
    }

    @Test
    void int8WithoutATableNeedsAQdqModel() {
        assertThatThrownBy(() -> TensorRtModels.prepare(OnnxModel.read(fx.float13), TensorRtPrecision.INT8, null))
                .hasMessageContaining("precision int8 needs a QDQ model")
                .hasMessageContaining("no implicit INT8 calibration");
    }
}
