package dev.anvil.activities.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.activities.provenance.Dsse;
import dev.anvil.activities.provenance.SigningKey;
import dev.anvil.activities.rollout.CandidateEvidence;
import dev.anvil.activities.rollout.CanarySpec;
import dev.anvil.activities.rollout.EvidenceAdmission;
import dev.anvil.activities.rollout.ProvenanceChain;
import dev.anvil.activities.rollout.RolloutRefused;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.Relation;
import dev.anvil.db.TrafficChange;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.rollout.CanaryRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A submitter alone put an unvalidated, unapproved model into production. The rollout admission now walks
 * the candidate's provenance in Anvil's own records: a signed attestation (verified with the platform key)
 * → the run that built it → a gate that passed a validation of this very model → an approval by someone
 * other than the requester. Each missing link is named; a forged or tampered attestation is refused; and a
 * candidate whose inputs and outputs differ from what the endpoint serves is refused naming both.
 */
class CandidateEvidenceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static LocalStackStores stores;
    private static ArtifactIO io;
    private static ApprovalStore approvals;
    private static ProvenanceChain chain;
    private static EvidenceAdmission admission;
    private static ArtifactRef stable;

    @BeforeAll
    static void stores() throws Exception {
        stores = LocalStackStores.open("candidate_evidence", "candidate-evidence-test");
        io = stores.artifactIO(JSON);
        approvals = new ApprovalStore(stores.db());
        chain = new ProvenanceChain(stores.attestations(), stores.taskRuns(), stores.lineage(), approvals,
                LocalStackStores.SIGNING_KEY, JSON);
        EndpointStore endpoints = new EndpointStore(stores.db());
        admission = new EvidenceAdmission(endpoints, stores.registry(), stores.artifacts(), stores.objects(), chain,
                CanarySpec.DEFAULT_MIN_INTERVAL);
        stable = stores.upload(SharedData.cnnMnist(), ArtifactIO.ONNX_MEDIA_TYPE);
        stores.registry().createModel("digits", null);
        stores.registry().registerVersion("digits", stable.sha256(), null, null);
        endpoints.put("digits", "digits", 1, null, TrafficChange.byHand("admin", null));
    }

    @Test
    void anUploadedModelHasNoSignedAttestationAndIsRefused() throws Exception {
        ArtifactRef uploaded = stores.upload(variant("uploaded", 28), ArtifactIO.ONNX_MEDIA_TYPE);
        assertThat(chain.walk(uploaded.sha256()).problem()).contains("has no signed attestation");
        assertThatThrownBy(() -> admission.admit(request(uploaded.sha256(), 60), false))
                .isInstanceOf(RolloutRefused.class).hasMessageContaining("no signed attestation")
                .satisfies(e -> assertThat(((RolloutRefused) e).status()).isEqualTo(403));
    }

    @Test
    void aBuiltModelWhoseRunHasNoGateIsRefusedNamingTheRun() throws Exception {
        Run run = new Run();
        String candidate = run.build("no-gate");
        assertThat(chain.walk(candidate).problem()).isEqualTo("run " + run.id + " has no passed gate over a validation"
                + " of this candidate (a gate task that passed the report of a validate task that measured artifact "
                + candidate.substring(0, 12) + ")");
    }

    @Test
    void aGateOverAnotherModelsReportDoesNotCount() throws Exception {
        Run run = new Run();
        String candidate = run.build("gate-over-another");
        ArtifactRef other = stores.upload(variant("another", 28), ArtifactIO.ONNX_MEDIA_TYPE);
        run.gate(run.validate(other.sha256()));
        assertThat(chain.walk(candidate).gatePassed()).isFalse();
        assertThat(chain.walk(candidate).problem()).contains("has no passed gate");
    }

    @Test
    void aPendingOrRejectedApprovalIsNamed() throws Exception {
        Run pending = new Run();
        String waiting = pending.build("pending");
        pending.gate(pending.validate(waiting));
        approvals.create("approval-" + pending.id, pending.id, "approve", 1, "demo-submitter");
        assertThat(chain.walk(waiting).problem()).isEqualTo("run " + pending.id + "'s approval is pending");

        Run rejected = new Run();
        String refused = rejected.build("rejected");
        rejected.gate(rejected.validate(refused));
        approvals.create("approval-" + rejected.id, rejected.id, "approve", 1, "demo-submitter");
        approvals.recordDecision("approval-" + rejected.id, "demo-reviewer", "reject", "wrong data");
        assertThatThrownBy(() -> admission.admit(request(refused, 60), false))
                .hasMessageContaining("run " + rejected.id + "'s approval is rejected");
    }

    @Test
    void aGatedModelApprovedBySomeoneElseIsAdmitted() throws Exception {
        Run run = new Run();
        String candidate = run.build("approved");
        run.gate(run.validate(candidate));
        approvals.create("approval-" + run.id, run.id, "approve", 1, "demo-submitter");
        approvals.recordDecision("approval-" + run.id, "demo-reviewer", "approve", "numbers look right");

        CandidateEvidence evidence = chain.walk(candidate);
        assertThat(evidence.holds()).as(evidence.problem()).isTrue();
        assertThat(evidence).extracting(CandidateEvidence::signature, CandidateEvidence::runId, CandidateEvidence::task,
                CandidateEvidence::approval).containsExactly("valid", run.id, "build", "approved");
        assertThat(evidence.approvedBy()).containsExactly("demo-reviewer");
        admission.admit(request(candidate, 60), false);
    }

    @Test
    void aTamperedOrForgedAttestationIsRefusedNamingTheSignature() throws Exception {
        Run run = new Run();
        String candidate = run.build("tampered");
        run.gate(run.validate(candidate));
        approvals.create("approval-" + run.id, run.id, "approve", 1, "demo-submitter");
        approvals.recordDecision("approval-" + run.id, "demo-reviewer", "approve", null);
        String stored = stores.attestations().forArtifact(candidate).get(0).envelopeJson();
        Dsse.Envelope envelope = JSON.readValue(stored, Dsse.Envelope.class);

        // the statement edited in the database to name another run: the signature no longer covers it
        String edited = new String(envelope.payloadBytes(), StandardCharsets.UTF_8).replace(run.id, run.id + "-x");
        replaceEnvelope(candidate, new Dsse.Envelope(envelope.payloadType(),
                Base64.getEncoder().encodeToString(edited.getBytes(StandardCharsets.UTF_8)), envelope.signatures()));
        assertThat(chain.walk(candidate).signature()).isEqualTo("invalid");
        assertThatThrownBy(() -> admission.admit(request(candidate, 60), false))
                .hasMessageContaining("has an invalid signature").hasMessageContaining("forged or tampered");

        // a statement signed with a key that is not the platform's
        Dsse.Envelope forged = Dsse.sign(envelope.payloadType(), envelope.payloadBytes(), SigningKey.generate());
        replaceEnvelope(candidate, forged);
        assertThat(chain.walk(candidate).problem()).contains("has an invalid signature");

        replaceEnvelope(candidate, envelope);
        assertThat(chain.walk(candidate).holds()).isTrue();
    }

    @Test
    void aCandidateWithAnotherSignatureIsRefusedNamingBothEvenWhenGlassIsBroken() throws Exception {
        ArtifactRef wider = stores.upload(variant("wider", 32), ArtifactIO.ONNX_MEDIA_TYPE);
        assertThatThrownBy(() -> admission.admit(request(wider.sha256(), 60), true))
                .isInstanceOf(RolloutRefused.class)
                .hasMessageContaining("the endpoint serves inputs [input_image: float32[")
                .hasMessageContaining("1,28,28]]")
                .hasMessageContaining("the candidate has inputs [input_image: float32[")
                .hasMessageContaining("1,32,28]]")
                .satisfies(e -> assertThat(((RolloutRefused) e).status()).isEqualTo(409));
        ArtifactRef same = stores.upload(variant("same-signature", 28), ArtifactIO.ONNX_MEDIA_TYPE);
        admission.admit(request(same.sha256(), 60), true); // glass broken: no evidence needed, the signature fits
    }

    @Test
    void theVersionTheEndpointAlreadyServesAsStableIsRefusedBeforeARolloutStarts() {
        assertThatThrownBy(() -> admission.admit(request(stable.sha256(), 60), true))
                .isInstanceOf(RolloutRefused.class)
                .hasMessage("the candidate " + stable.sha256() + " is version 1 of 'digits', which endpoint 'digits'"
                        + " already serves as stable; roll out a model that differs from it (a pipeline run with the"
                        + " same inputs builds the same bytes)")
                .satisfies(e -> assertThat(((RolloutRefused) e).status()).isEqualTo(409))
                .satisfies(e -> assertThat(((RolloutRefused) e).field()).isEqualTo("model"));
    }

    @Test
    void aChangeByHandIsJudgedByTheSameChainAndSignature() throws Exception {
        ArtifactRef uploaded = stores.upload(variant("by-hand", 28), ArtifactIO.ONNX_MEDIA_TYPE);
        assertThatThrownBy(() -> admission.admitArtifact("digits", uploaded.sha256(), stable.sha256(), false))
                .isInstanceOf(RolloutRefused.class)
                .hasMessageContaining("artifact " + uploaded.sha256() + " may not serve endpoint 'digits'")
                .hasMessageContaining("has no signed attestation")
                .hasMessageContaining("\"break_glass\": {\"reason\":")
                .satisfies(e -> assertThat(((RolloutRefused) e).status()).isEqualTo(403));
        // glass broken: admitted, and the evidence it lacks comes back to be audited
        assertThat(admission.admitArtifact("digits", uploaded.sha256(), stable.sha256(), true).holds()).isFalse();

        Run run = new Run();
        String candidate = run.build("by-hand-approved");
        run.gate(run.validate(candidate));
        approvals.create("approval-" + run.id, run.id, "approve", 1, "demo-submitter");
        approvals.recordDecision("approval-" + run.id, "demo-reviewer", "approve", "numbers look right");
        assertThat(admission.admitArtifact("digits", candidate, stable.sha256(), false).holds()).isTrue();

        ArtifactRef wider = stores.upload(variant("by-hand-wider", 32), ArtifactIO.ONNX_MEDIA_TYPE);
        assertThatThrownBy(() -> admission.admitArtifact("digits", wider.sha256(), stable.sha256(), true))
                .hasMessageContaining("the candidate has inputs [input_image: float32[")
                .hasMessageContaining("1,32,28]]")
                .satisfies(e -> assertThat(((RolloutRefused) e).status()).isEqualTo(409));
        // a new endpoint has no signature to match
        assertThat(admission.admitArtifact("new", wider.sha256(), null, true).holds()).isFalse();
        assertThatThrownBy(() -> admission.admitArtifact("digits", "0".repeat(64), null, true))
                .hasMessageContaining("is not in artifacts")
                .satisfies(e -> assertThat(((RolloutRefused) e).status()).isEqualTo(422));
    }

    @Test
    void anIntervalBelowTheFloorIsNoEvidence() {
        assertThatThrownBy(() -> admission.admit(request(stable.sha256(), 5), false))
                .isInstanceOf(RolloutRefused.class)
                .hasMessageContaining("interval 5s is below the floor of 30s (ANVIL_ROLLOUT_MIN_INTERVAL)")
                .satisfies(e -> assertThat(((RolloutRefused) e).field()).isEqualTo("interval"));
        assertThatThrownBy(() -> CanarySpec.parse(Map.of("endpoint", "digits", "model", stable.sha256(),
                "interval", "10s"), "r", null, CanarySpec.DEFAULT_MIN_INTERVAL))
                .isInstanceOf(CanarySpec.Invalid.class).hasMessageContaining("below the floor of 30s");
        assertThat(CanarySpec.parse(Map.of("endpoint", "digits", "model", stable.sha256(), "interval", "10s",
                "break_glass", Map.of("reason", "hotfix")), "r", null, CanarySpec.DEFAULT_MIN_INTERVAL)
                .intervalSeconds()).isEqualTo(10);
    }

    private static CanaryRequest request(String candidate, long intervalSeconds) {
        return new CanaryRequest("rollout-" + UUID.randomUUID(), "digits", candidate, List.of(5, 100), intervalSeconds,
                10, 0.01, 1.2, 1, null, "demo-submitter");
    }

    /** cnn_mnist told apart by its doc string, its input's height set to {@code height}. */
    private static Path variant(String name, int height) throws Exception {
        OnnxModel model = OnnxModel.read(SharedData.cnnMnist());
        model.proto().setDocString(name);
        model.graph().proto().getInputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder()
                .getDimBuilder(2).setDimValue(height);
        Path file = Files.createTempFile("candidate-", ".onnx");
        Files.write(file, model.toBytes());
        return file;
    }

    private static void replaceEnvelope(String artifact, Dsse.Envelope envelope) throws Exception {
        try (Connection c = stores.db().getConnection();
             PreparedStatement update = c.prepareStatement("UPDATE attestations SET envelope = ?::jsonb"
                     + " WHERE artifact_sha256 = ?")) {
            update.setString(1, JSON.writeValueAsString(envelope));
            update.setString(2, artifact);
            assertThat(update.executeUpdate()).isEqualTo(1);
        }
    }

    /** A run recorded as the task activities record one: task rows, lineage, signed outputs. */
    private static final class Run {
        final String id = "run-" + UUID.randomUUID();

        Run() {
            stores.runs().create(id, "release", null, "{}", "demo-submitter");
        }

        /** A task that publishes a model (signed, as every task output is). */
        String build(String name) throws Exception {
            Attempt attempt = new Attempt(id, "build", "convert");
            String sha = io.publish(attempt, variant(name, 28), ArtifactIO.ONNX_MEDIA_TYPE, "model").sha256();
            stores.taskRuns().finish(attempt.taskRunId, "success", "{}", null);
            return sha;
        }

        /** A validate task that measured {@code model}; returns its report. */
        String validate(String model) throws Exception {
            Attempt attempt = new Attempt(id, "validate", "validate");
            stores.lineage().addEdge(attempt.taskRunId, model, Relation.USED, "model");
            Path report = Files.createTempFile("report-", ".json");
            Files.writeString(report, "{\"candidate\": {\"accuracy\": 0.99}, \"model\": \"" + model + "\"}");
            String sha = io.publish(attempt, report, ArtifactIO.JSON_MEDIA_TYPE, "report").sha256();
            stores.taskRuns().finish(attempt.taskRunId, "success", "{}", null);
            return sha;
        }

        void gate(String report) {
            Attempt attempt = new Attempt(id, "gate", "gate");
            stores.lineage().addEdge(attempt.taskRunId, report, Relation.USED, "report");
            stores.taskRuns().finish(attempt.taskRunId, "success", "{}", null);
        }
    }

    private record Attempt(String runId, String taskId, long taskRunId) implements TaskContext {
        Attempt(String runId, String taskId, String operator) {
            this(runId, taskId, stores.taskRuns().start(runId, taskId, 1, operator, "{}"));
        }

        public void heartbeat(Object progress) {}
    }
}
