package dev.anvil.modelkit.convert;

import static dev.anvil.modelkit.convert.TinyModels.ENV;
import static dev.anvil.modelkit.convert.TinyModels.FLOAT;
import static dev.anvil.modelkit.convert.TinyModels.i;
import static dev.anvil.modelkit.convert.TinyModels.list;
import static dev.anvil.modelkit.convert.TinyModels.s;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.convert.TinyModels.Graph;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the converter refuses, and that each refusal says what is wrong and what would work. */
class ConvertBadInputTest {
    private final ModelConverter converter = new ModelConverter(ENV);

    @TempDir
    Path dir;

    @Test
    void corruptOrEmptyBytesAreNotAModel() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        Path truncated = dir.resolve("truncated.onnx");
        Files.write(truncated, Arrays.copyOf(model, model.length / 3));
        Path garbage = dir.resolve("garbage.onnx");
        Files.writeString(garbage, "this is not a protobuf, let alone an ONNX model");
        Path empty = Files.createFile(dir.resolve("empty.onnx"));

        assertThatThrownBy(() -> convert(truncated, 13)).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("not an ONNX model");
        assertThatThrownBy(() -> convert(garbage, 13)).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("not an ONNX model");
        assertThatThrownBy(() -> convert(empty, 13)).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("empty");
    }

    @Test
    void loweringTheOpsetIsRefused() {
        assertThatThrownBy(() -> convert(SharedData.cnnMnist(), 8)).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("opset 9").hasMessageContaining("lowering it to 8 is not supported")
                .hasMessageContaining("re-export the model at opset 8");
    }

    @Test
    void opsetsBeyondTheTableOrTheRuntimeAreRefused() {
        assertThatThrownBy(() -> convert(SharedData.cnnMnist(), 25)).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("opset 25 is not supported").hasMessageContaining("ends at opset 24")
                .hasMessageContaining("ask for opset 24 or lower");
        assertThatThrownBy(() -> convert(SharedData.cnnMnist(), 27)).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("beyond what ONNX Runtime 1.29 runs").hasMessageContaining("up to opset 26");
    }

    @Test
    void anOperatorTheConverterDoesNotKnowStopsTheRaise() throws Exception {
        ModelProto model = new Graph()
                .input("x", FLOAT, 3, 3)
                .node("Det", list("x"), list("d"))
                .output("d", FLOAT)
                .model(11);

        assertThatThrownBy(() -> convert(TinyModels.write(dir, "det.onnx", model), 13)).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("Det node 'Det_d'").hasMessageContaining("does not know operator Det")
                .hasMessageContaining("between opset 11 and 13");
    }

    @Test
    void aChangeWithoutAnAdapterNamesTheOperatorAndVersions() throws Exception {
        ModelProto model = new Graph()
                .input("x", FLOAT, 1, 1, 3, 3)
                .input("grid", FLOAT, 1, 2, 2, 2)
                .node("GridSample", list("x", "grid"), list("y"), s("mode", "bilinear"))
                .output("y", FLOAT, 1, 1, 2, 2)
                .model(16);
        Path file = TinyModels.write(dir, "grid.onnx", model);

        assertThatThrownBy(() -> convert(file, 20)).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("GridSample changed at opset 20").hasMessageContaining("mode values were renamed")
                .hasMessageContaining("from opset 16 to 20").hasMessageContaining("opset 19 is the highest");
        assertThat(converter.convert(file, dir.resolve("grid19.onnx"), ConversionOptions.of(19, OptimizationLevel.NONE, false))
                .opsetAfter()).as("up to the change it converts").isEqualTo(19);
    }

    @Test
    void aReadDropoutMaskCannotChangeType() throws Exception {
        ModelProto model = new Graph()
                .input("x", FLOAT, 2, 4)
                .node("Dropout", list("x"), list("y", "mask"))
                .output("y", FLOAT, 2, 4)
                .output("mask", FLOAT, 2, 4)
                .model(9);

        assertThatThrownBy(() -> convert(TinyModels.write(dir, "dropout.onnx", model), 13))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("Dropout changed at opset 10")
                .hasMessageContaining("reads the mask");
    }

    @Test
    void modelsBelowOpset7AreRefused() throws Exception {
        ModelProto model = new Graph().input("x", FLOAT, 2).node("Relu", list("x"), list("y")).output("y", FLOAT, 2)
                .model(6, 3);

        assertThatThrownBy(() -> convert(TinyModels.write(dir, "old.onnx", model), 13))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("below opset 7")
                .hasMessageContaining("re-export");
    }

    @Test
    void structuralProblemsAreNamed() throws Exception {
        ModelProto dangling = new Graph().input("x", FLOAT, 2).node("Add", list("x", "nowhere"), list("y"))
                .output("y", FLOAT, 2).model(13);
        assertThatThrownBy(() -> convert(TinyModels.write(dir, "dangling.onnx", dangling), 13))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("reads 'nowhere'");

        ModelProto unproduced = new Graph().input("x", FLOAT, 2).node("Relu", list("x"), list("y"))
                .output("y", FLOAT, 2).output("ghost", FLOAT, 2).model(13);
        assertThatThrownBy(() -> convert(TinyModels.write(dir, "ghost.onnx", unproduced), 13))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("graph output 'ghost'");

        ModelProto twice = new Graph().input("x", FLOAT, 2).node("Relu", list("x"), list("y"))
                .node("Neg", list("x"), list("y")).output("y", FLOAT, 2).model(13);
        assertThatThrownBy(() -> convert(TinyModels.write(dir, "twice.onnx", twice), 13))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("tensor 'y' is written by both");

        Graph custom = new Graph().input("x", FLOAT, 2).output("y", FLOAT, 2);
        custom.g.addNode(NodeProto.newBuilder().setOpType("Magic").setDomain("com.example").setName("magic")
                .addInput("x").addOutput("y"));
        assertThatThrownBy(() -> convert(TinyModels.write(dir, "custom.onnx", custom.model(13)), 13))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("uses domain 'com.example', which the model does not import");
    }

    @Test
    void aModelOnnxRuntimeRejectsFailsWithItsReason() throws Exception {
        // structurally fine, but a Conv weight of the wrong rank
        ModelProto model = new Graph()
                .input("x", FLOAT, 1, 1, 4, 4)
                .init(TinyModels.floatTensor("w", new long[] {2, 2}, 1, 2, 3, 4))
                .node("Conv", list("x", "w"), list("y"), i("group", 1))
                .output("y", FLOAT)
                .model(11);

        assertThatThrownBy(() -> convert(TinyModels.write(dir, "badconv.onnx", model), 13))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("ONNX Runtime cannot load the model");
    }

    private ConversionReport convert(Path model, int opset) throws Exception {
        return converter.convert(model, dir.resolve("out.onnx"), ConversionOptions.of(opset, OptimizationLevel.BASIC, false));
    }
}
