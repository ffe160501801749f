package dev.anvil.activities.security;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.convert.ConvertOperator;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.activities.provenance.Dsse;
import dev.anvil.activities.provenance.ProvenanceStatement;
import dev.anvil.activities.provenance.SigningKey;
import dev.anvil.activities.quantize.QuantizeOperator;
import dev.anvil.db.Attestation;
import dev.anvil.db.PipelineVersion;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.convert.ModelConverter;
import dev.anvil.workflows.ArtifactRef;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A model that claims to come from a pipeline must carry proof of it: every output a task publishes has a
 * DSSE envelope signed with the platform's key whose in-toto statement names the output, the inputs the task
 * used and the run, and an envelope whose statement was changed afterwards (another input, another output)
 * does not verify.
 */
class SignedProvenanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SigningKey KEY = LocalStackStores.SIGNING_KEY;
    private static LocalStackStores stores;
    private static ArtifactIO io;
    private static ArtifactRef model;

    @BeforeAll
    static void stores() throws Exception {
        stores = LocalStackStores.open("signed_provenance", "signed-provenance-test");
        io = stores.artifactIO(JSON);
        model = stores.upload(SharedData.cnnMnist(), ArtifactIO.ONNX_MEDIA_TYPE);
    }

    @Test
    void aConvertedModelHasASignedStatementNamingItsInputRunAndSpec() throws Exception {
        PipelineVersion version = new dev.anvil.db.PipelineStore(stores.db()).register("release",
                "pipeline: release\ntasks:\n  convert: {operator: convert, with: {model: x}}\n", "tester");
        Map<String, Object> with = Map.of("model", model.sha256(), "opset", 13);
        Attempt attempt = new Attempt("release", version.version(), "convert", with);

        Map<String, Object> outputs = new ConvertOperator(io, new ModelConverter(OrtEnvironment.getEnvironment()))
                .run(attempt, with);

        String output = sha(outputs.get("model"));
        JsonNode statement = verifiedStatement(output);
        assertThat(statement.path("_type").asText()).isEqualTo("https://in-toto.io/Statement/v1");
        assertThat(statement.path("subject")).singleElement()
                .satisfies(s -> {
                    assertThat(s.path("name").asText()).isEqualTo("model");
                    assertThat(s.path("digest").path("sha256").asText()).isEqualTo(output);
                });
        assertThat(statement.path("predicateType").asText()).isEqualTo("https://slsa.dev/provenance/v1");
        JsonNode build = statement.path("predicate").path("buildDefinition");
        assertThat(build.path("buildType").asText()).isEqualTo(ProvenanceStatement.BUILD_TYPE);
        assertThat(build.path("externalParameters").path("pipeline").asText()).isEqualTo("release");
        assertThat(build.path("externalParameters").path("specSha256").asText()).isEqualTo(version.specSha256());
        assertThat(build.path("externalParameters").path("task").asText()).isEqualTo("convert");
        assertThat(build.path("externalParameters").path("with").path("opset").asInt()).isEqualTo(13);
        assertThat(build.path("internalParameters").path("operator").asText()).isEqualTo("convert");
        assertThat(build.path("resolvedDependencies")).singleElement().satisfies(d -> {
            assertThat(d.path("name").asText()).isEqualTo("model");
            assertThat(d.path("digest").path("sha256").asText()).isEqualTo(model.sha256());
        });
        JsonNode run = statement.path("predicate").path("runDetails");
        assertThat(run.path("builder").path("id").asText()).isEqualTo(ProvenanceStatement.BUILDER_ID);
        assertThat(run.path("metadata").path("invocationId").asText()).isEqualTo(attempt.runId + "/convert/1");
    }

    @Test
    void everyOutputOfAQuantizeTaskIsAttestedOncePerAttempt() throws Exception {
        // dynamic quantisation needs opset 11 or later: convert first, as a pipeline would
        Map<String, Object> convertWith = Map.of("model", model.sha256(), "opset", 13);
        String converted = sha(new ConvertOperator(io, new ModelConverter(OrtEnvironment.getEnvironment()))
                .run(new Attempt("quantize-only", null, "convert", convertWith), convertWith).get("model"));
        Map<String, Object> with = Map.of("model", converted, "mode", "dynamic");
        Attempt attempt = new Attempt("quantize-only", null, "quantize", with);

        Map<String, Object> outputs = new QuantizeOperator(io, OrtEnvironment.getEnvironment(), Duration.ZERO)
                .run(attempt, with);

        String output = sha(outputs.get("model"));
        JsonNode statement = verifiedStatement(output);
        assertThat(statement.path("predicate").path("buildDefinition").path("resolvedDependencies"))
                .extracting(d -> d.path("digest").path("sha256").asText()).containsExactly(converted);
        assertThat(statement.path("predicate").path("buildDefinition").path("externalParameters").has("specSha256"))
                .as("no spec version for a run without one").isFalse();

        // the same attempt publishing again (a retried activity) keeps the first envelope
        Path again = Files.createTempFile("again-", ".onnx");
        try {
            stores.objects().copyTo(ArtifactIO.stored(ref(outputs.get("model"))), again);
            io.publish(attempt, again, ArtifactIO.ONNX_MEDIA_TYPE, "model");
        } finally {
            Files.delete(again);
        }
        assertThat(stores.attestations().forArtifact(output)).hasSize(1);
    }

    @Test
    void aChangedStatementDoesNotVerify() throws Exception {
        Map<String, Object> with = Map.of("model", model.sha256(), "opset", 12);
        Attempt attempt = new Attempt("forgery", null, "convert", with);
        String output = sha(new ConvertOperator(io, new ModelConverter(OrtEnvironment.getEnvironment()))
                .run(attempt, with).get("model"));
        Dsse.Envelope envelope = envelope(output);
        String other = "0".repeat(64);
        String forgedPayload = new String(envelope.payloadBytes(), StandardCharsets.UTF_8).replace(model.sha256(), other);

        Dsse.Envelope forged = new Dsse.Envelope(envelope.payloadType(),
                Base64.getEncoder().encodeToString(forgedPayload.getBytes(StandardCharsets.UTF_8)), envelope.signatures());

        assertThat(forgedPayload).contains(other);
        assertThat(Dsse.verify(forged, KEY.publicKey(), KEY.keyId())).isFalse();
        assertThat(Dsse.verify(envelope, KEY.publicKey(), KEY.keyId())).isTrue();
    }

    private static JsonNode verifiedStatement(String artifact) throws Exception {
        Dsse.Envelope envelope = envelope(artifact);
        assertThat(envelope.payloadType()).isEqualTo("application/vnd.in-toto+json");
        assertThat(Dsse.verify(envelope, KEY.publicKey(), KEY.keyId())).as("signed with the platform key").isTrue();
        return JSON.readTree(envelope.payloadBytes());
    }

    private static Dsse.Envelope envelope(String artifact) throws Exception {
        List<Attestation> attestations = stores.attestations().forArtifact(artifact);
        assertThat(attestations).as("attestations of " + artifact).hasSize(1);
        return JSON.readValue(attestations.get(0).envelopeJson(), Dsse.Envelope.class);
    }

    private static ArtifactRef ref(Object output) {
        return JSON.convertValue(output, ArtifactRef.class);
    }

    private static String sha(Object output) {
        return ref(output).sha256();
    }

    /** One attempt of a task of a new run, recorded as the task activity records it. */
    private static final class Attempt implements TaskContext {
        final String runId = "run-" + UUID.randomUUID();
        final String taskId;
        final long taskRunId;

        Attempt(String pipeline, Integer version, String taskId, Map<String, Object> with) throws Exception {
            this.taskId = taskId;
            stores.runs().create(runId, pipeline, version, "{}", "tester");
            this.taskRunId = stores.taskRuns().start(runId, taskId, 1, taskId, JSON.writeValueAsString(with));
        }

        public String runId() { return runId; }
        public String taskId() { return taskId; }
        public long taskRunId() { return taskRunId; }
        public void heartbeat(Object progress) {}
    }
}
