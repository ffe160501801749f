package dev.anvil.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.onnx.SignatureModels;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A warm session's signature as callers see it, and how a run the request made fail is answered. */
class LoadedModelTest {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    @Test
    void listsInputsAndOutputsInTheGraphsOrder() throws Exception {
        LoadedModel model = load(SignatureModels.unsortedNames());
        try {
            assertThat(model.inputs().keySet()).containsExactly("zeta", "alpha");
            assertThat(model.outputs().keySet()).containsExactly("total", "difference");
        } finally {
            model.retire();
        }
    }

    @Test
    void aValueTheModelCannotTakeIsTheCallersErrorNamingTheInput() throws Exception {
        LoadedModel model = load(SignatureModels.lookup());
        try (V2Request request = request(model, "[0, 7]")) {
            OrtException refused = null;
            try (OrtSession.Result ignored = model.session().run(request.inputs())) {
                // an id past the vocabulary must not run
            } catch (OrtException e) {
                refused = e;
            }
            assertThat(refused).as("ONNX Runtime refuses token id 7 of a 3-token vocabulary").isNotNull();
            GatewayException answer = Gateway.runFailure("words", 2, model, request, refused);
            assertThat(answer.status()).isEqualTo(400);
            assertThat(answer.field()).isEqualTo("inputs");
            assertThat(answer.getMessage()).startsWith("model 'words' (version 2) cannot take these inputs: ")
                    .contains("input 'token_ids' INT64 [2] (the model expects INT64 [-1], -1: any size)");
        } finally {
            model.retire();
        }
    }

    @Test
    void aModelFailureOtherThanItsInputsStaysTheServers() throws Exception {
        LoadedModel model = load(SignatureModels.lookup());
        try (V2Request request = request(model, "[0, 1]")) {
            OrtException failure = new OrtException(OrtException.OrtErrorCode.ORT_RUNTIME_EXCEPTION, "out of memory");
            GatewayException answer = Gateway.runFailure("words", 2, model, request, failure);
            assertThat(answer.status()).isEqualTo(500);
            assertThat(answer.getMessage()).startsWith("version 2 of model 'words' failed on this input: ")
                    .endsWith("out of memory");
        } finally {
            model.retire();
        }
    }

    @Test
    void aShapeOrDatatypeTheSignatureRefusesIsNamedBeforeTheModelRuns() throws Exception {
        LoadedModel model = load(SignatureModels.lookup());
        try {
            String body = "{\"inputs\": [{\"name\": \"token_ids\", \"datatype\": \"INT64\", \"shape\": [1, 2],"
                    + " \"data\": [0, 1]}]}";
            assertThatThrownBy(() -> V2RequestReader.read(ENV, model, utf8(body), -1).close())
                    .isInstanceOfSatisfying(GatewayException.class, e -> {
                        assertThat(e.status()).isEqualTo(400);
                        assertThat(e.field()).isEqualTo("inputs[0].shape");
                    })
                    .hasMessage("input 'token_ids' has shape [1, 2], the model expects [-1] (-1: any size)");
            String floats = body.replace("INT64", "FP32").replace("[1, 2]", "[2]");
            assertThatThrownBy(() -> V2RequestReader.read(ENV, model, utf8(floats), -1).close())
                    .hasMessage("input 'token_ids' has datatype FP32, the model expects INT64");
        } finally {
            model.retire();
        }
    }

    private static LoadedModel load(byte[] onnx) throws OrtException {
        return new LoadedModel("test", ENV.createSession(onnx, new OrtSession.SessionOptions()), 1);
    }

    private static V2Request request(LoadedModel model, String ids) {
        return V2RequestReader.read(ENV, model, utf8("{\"inputs\": [{\"name\": \"token_ids\", \"datatype\": \"INT64\","
                + " \"shape\": [2], \"data\": " + ids + "}]}"), -1);
    }

    private static ByteBuffer utf8(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes);
        return direct.flip();
    }
}
