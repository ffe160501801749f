package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
public class InspectModelResourceTest {

    @org.junit.jupiter.api.BeforeEach
    void signIn() {
        TestTokens.signInAs(TestTokens.ADMIN);
    }

    @Test
    void inspectsTheRealModelRecordsTheTaskRunAndItsLineage() throws Exception {
        String sha = upload(Files.readAllBytes(SharedData.cnnMnist()));

        JsonPath result = given().contentType("application/json").body(Map.of("artifact", sha))
                .when().post("/api/models/inspect")
                .then().statusCode(200)
                .body("status", equalTo("success"))
                .body("report.opsets['']", equalTo(9))
                .body("report.inputs[0].name", equalTo("input_image"))
                .body("report.outputs[0].name", equalTo("output_probs"))
                .body("report.warnings", empty())
                .extract().jsonPath();
        String runId = result.getString("run");
        assertThat(result.getLong("report.parameterCount")).isPositive();

        // the run and its task run, as PostgreSQL recorded them
        JsonPath run = given().get("/api/runs/" + runId).then().statusCode(200).extract().jsonPath();
        assertThat(run.getString("run.status")).isEqualTo("success");
        assertThat(run.getList("tasks.taskId")).containsExactly("inspect");
        assertThat(run.getString("tasks[0].status")).isEqualTo("success");
        assertThat(JsonValues.text(run.get("tasks[0].metricsJson"))).contains("\"parameterCount\"");
        given().get("/api/runs?status=success").then().statusCode(200).body("id", hasItem(runId));

        // lineage: the inspect task run used the model
        JsonPath lineage = given().get("/api/artifacts/" + sha + "/lineage").then().statusCode(200).extract().jsonPath();
        List<Map<String, Object>> nodes = lineage.getList("descendants.nodes");
        assertThat(nodes).anySatisfy(n -> {
            assertThat(n.get("kind")).isEqualTo("task_run");
            assertThat(n.get("run")).isEqualTo(runId);
            assertThat(n.get("task")).isEqualTo("inspect");
            assertThat(n.get("operator")).isEqualTo("inspect");
        });
        assertThat(lineage.getList("descendants.edges.relation")).contains("used");
    }

    @Test
    void aDomainTheModelDoesNotImportIsAWarningInTheAnswer() {
        // an exporter bug ONNX Runtime forgives for its own domains: the model loads, the report says
        ValueInfoProto x = floatValue("x");
        ValueInfoProto y = floatValue("y");
        byte[] model = ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(GraphProto.newBuilder().setName("gelu").addInput(x).addOutput(y)
                        .addNode(NodeProto.newBuilder().setOpType("Gelu").setName("n1").setDomain("com.microsoft")
                                .addInput("x").addOutput("y")))
                .build().toByteArray();
        String sha = upload(model);

        given().contentType("application/json").body(Map.of("artifact", sha))
                .when().post("/api/models/inspect")
                .then().statusCode(200)
                .body("status", equalTo("success"))
                .body("report.warnings", contains("node 'n1' (Gelu) uses domain 'com.microsoft', which the model"
                        + " does not import: add an opset_import for it (domain 'com.microsoft' with the operator"
                        + " set version the nodes were written for)"));
    }

    @Test
    void aCorruptModelIs422WithAClearMessageAndAFailedRun() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        String sha = upload(Arrays.copyOf(model, model.length / 3));

        JsonPath problem = given().contentType("application/json").body(Map.of("artifact", sha))
                .when().post("/api/models/inspect")
                .then().statusCode(422)
                .contentType("application/problem+json")
                .body("detail", containsString("not an ONNX model"))
                .body("errors[0].field", equalTo("artifact"))
                .body(not(containsString("Exception")))
                .extract().jsonPath();
        String runId = problem.getString("detail").replaceAll(".*\\(run (inspect-[0-9a-f-]+)\\).*", "$1");

        JsonPath run = given().get("/api/runs/" + runId).then().statusCode(200).extract().jsonPath();
        assertThat(run.getString("run.status")).isEqualTo("failed");
        assertThat(run.getString("run.error")).contains("not an ONNX model");
        // non-retryable: one attempt only
        assertThat(run.getList("tasks.attempt")).containsExactly(1);
    }

    @Test
    void aTextFileIsNotAModel() {
        String sha = upload("name,age\nada,36\n".getBytes());
        given().contentType("application/json").body(Map.of("artifact", sha))
                .when().post("/api/models/inspect")
                .then().statusCode(422).body("detail", containsString("not an ONNX model"));
    }

    @Test
    void unknownOrMalformedArtifactsAreNamed() {
        given().contentType("application/json").body(Map.of("artifact", "f".repeat(64)))
                .when().post("/api/models/inspect")
                .then().statusCode(404).body("errors[0].field", equalTo("artifact"))
                .body("detail", containsString("upload the model with POST /api/artifacts first"));
        given().contentType("application/json").body(Map.of("artifact", "model.onnx"))
                .when().post("/api/models/inspect")
                .then().statusCode(400).body("errors[0].field", equalTo("artifact"));
        given().contentType("application/json").body("{}")
                .when().post("/api/models/inspect")
                .then().statusCode(400).body("detail", containsString("{\"artifact\""));
        given().contentType("application/json").body("{\"artifact\": ")
                .when().post("/api/models/inspect")
                .then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("not valid JSON"));
    }

    @Test
    void withoutWaitingTheRunIsAccepted() throws Exception {
        String sha = upload(Files.readAllBytes(SharedData.cnnMnist()));
        given().contentType("application/json").body(Map.of("artifact", sha))
                .when().post("/api/models/inspect?wait=false")
                .then().statusCode(202)
                .header("Location", containsString("/api/runs/inspect-"))
                .body("status", equalTo("queued"));
    }

    public static String upload(byte[] bytes) {
        return given().contentType("application/octet-stream").body(bytes)
                .when().post("/api/artifacts?mediaType=application/onnx")
                .then().statusCode(org.hamcrest.Matchers.oneOf(200, 201))
                .extract().path("artifact.sha256");
    }

    private static ValueInfoProto floatValue(String name) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE)
                        .setShape(TensorShapeProto.newBuilder()
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(2)))))
                .build();
    }
}
