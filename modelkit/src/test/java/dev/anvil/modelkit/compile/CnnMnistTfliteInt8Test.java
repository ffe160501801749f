package dev.anvil.modelkit.compile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.quantize.CalibrationTable;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.lite.schema.Model;
import org.tensorflow.lite.schema.ModelT;
import org.tensorflow.lite.schema.TensorT;
import org.tensorflow.lite.schema.TensorType;

/**
 * The targets for full-integer TFLite on the real model: cnn_mnist compiled to INT8 from the quantize
 * operator's calibration table, run in the TFLite interpreter on the 9,744 held-out MNIST images against ONNX Runtime
 * FP32: top-1 drop at most 0.5 points, size at most 30 % of float32.
 */
class CnnMnistTfliteInt8Test {
    @TempDir
    static Path dir;
    static CnnMnistInt8Fixture fx;

    @BeforeAll
    static void prepare() throws Exception {
        fx = CnnMnistInt8Fixture.prepare(dir);
    }

    @Test
    void int8MeetsTheTargets() throws Exception {
        TfliteConverter.Result r = TfliteConverter.convertInt8(OnnxModel.read(fx.float13), fx.table);
        Path out = dir.resolve("cnn_mnist_int8.tflite");
        Files.write(out, r.flatbuffer());
        Path fp32 = dir.resolve("cnn_mnist_fp32.tflite");
        Files.write(fp32, TfliteConverter.convert(OnnxModel.read(fx.float13), TfliteConverter.Precision.FLOAT32)
                .flatbuffer());
        TfliteVerifier.Report rep = TfliteVerifier.compare(fx.float13, out, fx.images, new int[] {1, 1, 28, 28},
                fx.labels);
        double ratio = (double) Files.size(out) / Files.size(fp32);
        System.out.printf("cnn_mnist tflite int8: ops %s, notes %s, size %d B (%.1f%% of tflite float32 %d B, %.1f%% of"
                + " onnx %d B), samples %d, accuracy onnx fp32 %.4f tflite int8 %.4f (drop %.2f pt), agreement %.4f,"
                + " max abs error log-probs %.3g probs %.3g%n", r.tfliteOps(), r.notes(), Files.size(out), 100 * ratio,
                Files.size(fp32), 100.0 * Files.size(out) / Files.size(SharedData.cnnMnist()),
                Files.size(SharedData.cnnMnist()), rep.samples(), rep.referenceAccuracy(), rep.candidateAccuracy(),
                rep.accuracyDropPoints(), rep.top1Agreement(), rep.maxAbsError(), rep.maxAbsErrorProbabilities());
        assertThat(rep.samples()).isEqualTo(9744);
        assertThat(rep.referenceAccuracy()).isGreaterThan(0.985);
        assertThat(rep.accuracyDropPoints()).isLessThanOrEqualTo(0.5);
        // the issue asks for 30 %: the int8 weights are 24.6 % of the float32 file; the per-channel parameters and the
        // graph add the rest, with identical quantisation vectors written once (TflitePacker); measured 29.4 %
        assertThat(ratio).isLessThanOrEqualTo(0.30);
        // tensors that share one quantisation table or vector pass TFLite's flatbuffer verifier
        try (dev.anvil.modelkit.tflite.TfliteModel verified = dev.anvil.modelkit.tflite.TfliteModel.open(out, 1)) {
            assertThat(verified.inputs()).hasSize(1);
        }
        // float I/O: one QUANTIZE at the input, one DEQUANTIZE at the output; the four RELUs fused into the layers
        // (the two after Conv → MaxPool moved before the MaxPool, with which they commute)
        assertThat(r.tfliteOps()).containsEntry("QUANTIZE", 1).containsEntry("DEQUANTIZE", 1)
                .containsEntry("CONV_2D", 2).containsEntry("FULLY_CONNECTED", 2).containsEntry("LOG_SOFTMAX", 1)
                .doesNotContainKey("RELU");

        ModelT m = Model.getRootAsModel(ByteBuffer.wrap(r.flatbuffer())).unpack();
        Map<String, TensorT> byName = new LinkedHashMap<>();
        for (TensorT t : m.getSubgraphs()[0].getTensors()) {
            byName.put(t.getName(), t);
        }
        TensorT in = m.getSubgraphs()[0].getTensors()[m.getSubgraphs()[0].getInputs()[0]];
        TensorT outT = m.getSubgraphs()[0].getTensors()[m.getSubgraphs()[0].getOutputs()[0]];
        assertThat(in.getType()).isEqualTo(TensorType.FLOAT32);
        assertThat(outT.getType()).isEqualTo(TensorType.FLOAT32);
        // the LogSoftmax result before the DEQUANTIZE: TFLite's fixed 16/256, zero point 127
        TensorT logits = byName.get(outT.getName() + "/int8");
        assertThat(logits.getType()).isEqualTo(TensorType.INT8);
        assertThat(logits.getQuantization().getScale()).containsExactly(16f / 256);
        assertThat(logits.getQuantization().getZeroPoint()).containsExactly(127L);
        int weights = 0, biases = 0;
        for (TensorT t : m.getSubgraphs()[0].getTensors()) {
            if (t.getBuffer() != 0 && t.getType() == TensorType.INT8 && t.getShape().length >= 2) {
                weights++;
                // symmetric per output channel
                assertThat(t.getQuantization().getScale()).hasSize(t.getShape()[0]);
                assertThat(t.getQuantization().getZeroPoint()).containsOnly(0L);
            }
            if (t.getBuffer() != 0 && t.getType() == TensorType.INT32 && t.getQuantization() != null
                    && t.getQuantization().getScale() != null && t.getQuantization().getScale().length > 0) {
                biases++;
            }
            assertThat(t.getType()).as(t.getName()).isNotEqualTo(TensorType.FLOAT16);
        }
        assertThat(weights).isEqualTo(4);
        assertThat(biases).isEqualTo(4);
    }

    @Test
    void int8InputsAndOutputsCarryTheirScaleAndZeroPointAndVerifyLikeFloatIo() throws Exception {
        TfliteConverter.Result r = TfliteConverter.convertInt8(OnnxModel.read(fx.float13), fx.table,
                TfliteConverter.Io.INT8);
        Path out = dir.resolve("cnn_mnist_int8_io.tflite");
        Files.write(out, r.flatbuffer());
        // no QUANTIZE / DEQUANTIZE at the edges: the caller quantises
        assertThat(r.tfliteOps()).doesNotContainKeys("QUANTIZE", "DEQUANTIZE").containsEntry("CONV_2D", 2);
        ModelT m = Model.getRootAsModel(ByteBuffer.wrap(r.flatbuffer())).unpack();
        TensorT in = m.getSubgraphs()[0].getTensors()[m.getSubgraphs()[0].getInputs()[0]];
        TensorT outT = m.getSubgraphs()[0].getTensors()[m.getSubgraphs()[0].getOutputs()[0]];
        assertThat(in.getName()).isEqualTo("input_image");
        assertThat(in.getType()).isEqualTo(TensorType.INT8);
        assertThat(outT.getName()).isEqualTo("output_probs");
        assertThat(outT.getType()).isEqualTo(TensorType.INT8);
        // what the report gives a caller is what the file holds
        assertThat(r.io()).hasSize(2);
        TfliteConverter.IoTensor input = r.io().get(0);
        TfliteConverter.IoTensor output = r.io().get(1);
        assertThat(input.role()).isEqualTo("input");
        assertThat(input.type()).isEqualTo("int8");
        assertThat(input.shape()).containsExactly(1, 1, 28, 28);
        assertThat(input.scale()).isEqualTo(in.getQuantization().getScale()[0]);
        assertThat(input.zeroPoint()).isEqualTo(in.getQuantization().getZeroPoint()[0]);
        // raw pixels 0..255 calibrated to [0, 255]: one level per grey value, so quantising the images loses nothing
        assertThat(input.scale()).isCloseTo(1f, org.assertj.core.data.Offset.offset(0.01f));
        assertThat(output.role()).isEqualTo("output");
        assertThat(output.scale()).isEqualTo(16f / 256);
        assertThat(output.zeroPoint()).isEqualTo(127L);

        // the verifier quantises the images with the input's parameters and dequantises the output
        TfliteVerifier.Report rep = TfliteVerifier.compare(fx.float13, out, fx.images, new int[] {1, 1, 28, 28},
                fx.labels);
        Path floatIo = dir.resolve("cnn_mnist_int8_float_io.tflite");
        Files.write(floatIo, TfliteConverter.convertInt8(OnnxModel.read(fx.float13), fx.table).flatbuffer());
        TfliteVerifier.Report floatRep = TfliteVerifier.compare(fx.float13, floatIo, fx.images,
                new int[] {1, 1, 28, 28}, fx.labels);
        System.out.printf("cnn_mnist tflite int8, int8 io: size %d B (float io %d B), input scale %s zero point %d,"
                + " output scale %s zero point %d, samples %d, accuracy %.4f (float io %.4f), agreement %.4f (float io"
                + " %.4f)%n", Files.size(out), Files.size(floatIo), input.scale(), input.zeroPoint(), output.scale(),
                output.zeroPoint(), rep.samples(), rep.candidateAccuracy(), floatRep.candidateAccuracy(),
                rep.top1Agreement(), floatRep.top1Agreement());
        assertThat(rep.samples()).isEqualTo(9744);
        assertThat(rep.accuracyDropPoints()).isLessThanOrEqualTo(0.5);
        // the same int8 graph inside: QUANTIZE in the graph and the caller's quantisation give the same top-1s
        assertThat(rep.top1Agreement()).isCloseTo(floatRep.top1Agreement(), org.assertj.core.data.Offset.offset(0.001));
        assertThat(Files.size(out)).isLessThan(Files.size(floatIo));
    }

    @Test
    void floatIoIsTheDefaultAndSaysSo() throws Exception {
        TfliteConverter.Result r = TfliteConverter.convertInt8(OnnxModel.read(fx.float13), fx.table);
        assertThat(r.io()).extracting(TfliteConverter.IoTensor::type).containsOnly("float32");
        assertThat(r.io()).extracting(TfliteConverter.IoTensor::scale).containsOnlyNulls();
        assertThat(r.io()).extracting(TfliteConverter.IoTensor::name).containsExactly("input_image", "output_probs");
    }

    @Test
    void theInterpreterResizedToABatchOf32GivesTheBatchOneOutputs() throws Exception {
        // the batch is free (-1) through every op, RESHAPE's shape included: before, RESHAPE held [1, 320] and the
        // interpreter (XNNPACK) refused to resize cnn_mnist beyond batch 1
        int batch = 32;
        float[] x = new float[batch * 784];
        for (int s = 0; s < batch; s++) {
            System.arraycopy(fx.images.get(s), 0, x, s * 784, 784);
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("float32", TfliteConverter.convert(OnnxModel.read(fx.float13), TfliteConverter.Precision.FLOAT32)
                .flatbuffer());
        files.put("int8", TfliteConverter.convertInt8(OnnxModel.read(fx.float13), fx.table).flatbuffer());
        files.put("int8 io", TfliteConverter.convertInt8(OnnxModel.read(fx.float13), fx.table, TfliteConverter.Io.INT8)
                .flatbuffer());
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            Path f = dir.resolve("batch_" + e.getKey().replace(' ', '_') + ".tflite");
            Files.write(f, e.getValue());
            try (TfliteRunner runner = new TfliteRunner(f, 1)) {
                float[] batched = runner.run(x, new int[] {batch, 1, 28, 28});
                assertThat(batched).as(e.getKey()).hasSize(batch * 10);
                for (int s = 0; s < batch; s++) {
                    float[] one = runner.run(fx.images.get(s), new int[] {1, 1, 28, 28});
                    for (int k = 0; k < 10; k++) {
                        assertThat(batched[s * 10 + k]).as("%s sample %d class %d", e.getKey(), s, k)
                                .isCloseTo(one[k], org.assertj.core.data.Offset.offset(1e-3f * Math.max(1,
                                        Math.abs(one[k]))));
                    }
                }
            }
        }
    }

    @Test
    void aTableOfAnotherModelIsRefusedNamingTheMissingTensors() {
        // the same ranges under other tensor names: what a table measured on another model looks like
        Map<String, CalibrationTable.Range> renamed = new LinkedHashMap<>();
        fx.table.tensors().forEach((k, v) -> renamed.put("other_model/" + k, v));
        CalibrationTable other = new CalibrationTable(CalibrationTable.FORMAT, "0".repeat(64), "percentile", 99.999,
                256, renamed);
        assertThatThrownBy(() -> TfliteConverter.convertInt8(OnnxModel.read(fx.float13), other))
                .isInstanceOf(TfliteInt8Quantizer.MissingRangesException.class)
                .hasMessageContaining("the calibration table has no range for")
                .hasMessageContaining("input_image")
                .hasMessageContaining("calibrate this model")
                .satisfies(e -> assertThat(((TfliteInt8Quantizer.MissingRangesException) e).missing())
                        .contains("input_image").hasSizeGreaterThanOrEqualTo(4));
    }

    @Test
    void aTableMissingOneTensorNamesThatTensor() throws Exception {
        // the logits: the last Gemm's output (after its Relu, fused), which LogSoftmax reads
        OnnxModel model = OnnxModel.read(fx.float13);
        String dropped = model.graph().nodes().stream().filter(n -> n.getOpType().equals("LogSoftmax")).findFirst()
                .orElseThrow().getInput(0);
        Map<String, CalibrationTable.Range> partial = new LinkedHashMap<>(fx.table.tensors());
        assertThat(partial.remove(dropped)).isNotNull();
        CalibrationTable t = new CalibrationTable(CalibrationTable.FORMAT, "x", "percentile", 99.999, 256, partial);
        assertThatThrownBy(() -> TfliteConverter.convertInt8(OnnxModel.read(fx.float13), t))
                .isInstanceOf(TfliteInt8Quantizer.MissingRangesException.class)
                .satisfies(e -> assertThat(((TfliteInt8Quantizer.MissingRangesException) e).missing())
                        .containsExactly(dropped));
    }
}
