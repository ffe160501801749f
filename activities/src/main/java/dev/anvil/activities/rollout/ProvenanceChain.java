package dev.anvil.activities.rollout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.provenance.Dsse;
import dev.anvil.activities.provenance.SigningKey;
import dev.anvil.db.Approval;
import dev.anvil.db.ApprovalDecision;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.Attestation;
import dev.anvil.db.AttestationStore;
import dev.anvil.db.LineageEdge;
import dev.anvil.db.LineageStore;
import dev.anvil.db.Relation;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.approval.Principals;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Walks a candidate model's provenance in Anvil's own records, never in what a caller sends: its
 * attestation (the DSSE signature verified with the platform key, the statement naming this artifact)
 * → the run that built it → that run's gate, passed over a validation of this very artifact → that
 * run's approval, approved by someone other than its requester.
 */
public final class ProvenanceChain {
    private final AttestationStore attestations;
    private final TaskRunStore taskRuns;
    private final LineageStore lineage;
    private final ApprovalStore approvals;
    private final SigningKey key;
    private final ObjectMapper json;

    public ProvenanceChain(AttestationStore attestations, TaskRunStore taskRuns, LineageStore lineage,
                           ApprovalStore approvals, SigningKey key, ObjectMapper json) {
        this.attestations = attestations;
        this.taskRuns = taskRuns;
        this.lineage = lineage;
        this.approvals = approvals;
        this.key = key;
        this.json = json;
    }

    /**
     * The evidence for {@code sha256}: the first run whose chain holds, else the problem of the first run a
     * valid attestation names, else why no attestation is valid.
     */
    public CandidateEvidence walk(String sha256) {
        String shortSha = sha256.substring(0, Math.min(12, sha256.length()));
        List<Attestation> found = attestations.forArtifact(sha256);
        if (found.isEmpty()) {
            return new CandidateEvidence(sha256, "none", null, null, false, null, List.of(), "artifact " + shortSha
                    + " has no signed attestation: no Anvil pipeline run built it (let a run build, validate, gate"
                    + " and approve it)");
        }
        CandidateEvidence firstProblem = null;
        for (Attestation attestation : found) {
            Optional<String[]> signed = signedRunAndTask(attestation);
            if (signed.isEmpty()) {
                continue;
            }
            CandidateEvidence evidence = ofRun(sha256, signed.get()[0], signed.get()[1]);
            if (evidence.holds()) {
                return evidence;
            }
            if (firstProblem == null) {
                firstProblem = evidence;
            }
        }
        if (firstProblem != null) {
            return firstProblem;
        }
        return new CandidateEvidence(sha256, "invalid", null, null, false, null, List.of(), "the attestation of artifact "
                + shortSha + " has an invalid signature: it does not verify with the platform's provenance key "
                + key.keyId().substring(0, 12) + " (forged or tampered)");
    }

    /** The run and task a verified envelope about this artifact names; empty when the envelope does not verify. */
    private Optional<String[]> signedRunAndTask(Attestation attestation) {
        try {
            JsonNode stored = json.readTree(attestation.envelopeJson());
            List<Dsse.Signature> signatures = new ArrayList<>();
            for (JsonNode s : stored.path("signatures")) {
                signatures.add(new Dsse.Signature(s.path("keyid").asText(null), s.path("sig").asText(null)));
            }
            Dsse.Envelope envelope = new Dsse.Envelope(stored.path("payloadType").asText(null),
                    stored.path("payload").asText(null), signatures);
            if (!Dsse.IN_TOTO_PAYLOAD_TYPE.equals(envelope.payloadType())
                    || !Dsse.verify(envelope, key.publicKey(), key.keyId())) {
                return Optional.empty();
            }
            JsonNode statement = json.readTree(envelope.payloadBytes());
            boolean aboutThis = false;
            for (JsonNode subject : statement.path("subject")) {
                aboutThis |= attestation.artifactSha256().equals(subject.path("digest").path("sha256").asText());
            }
            // invocationId is run/task/attempt; the run id itself may hold a slash
            String invocation = statement.path("predicate").path("runDetails").path("metadata").path("invocationId").asText("");
            String task = statement.path("predicate").path("buildDefinition").path("externalParameters").path("task").asText("");
            String suffix = "/" + task + "/";
            int at = invocation.lastIndexOf(suffix);
            if (!aboutThis || task.isEmpty() || at <= 0) {
                return Optional.empty();
            }
            return Optional.of(new String[] {invocation.substring(0, at), task});
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty(); // an envelope that does not read is one that does not verify
        }
    }

    private CandidateEvidence ofRun(String sha256, String runId, String task) {
        List<TaskRun> tasks = taskRuns.listByRun(runId);
        boolean gatePassed = gatePassedOver(sha256, tasks);
        List<Approval> runApprovals = approvals.listByRun(runId);
        List<String> approvers = new ArrayList<>();
        String approvalState = null;
        for (Approval approval : runApprovals) {
            List<String> others = approval.state().equals("approved") ? approvers(approval) : List.of();
            if (!others.isEmpty()) {
                approvalState = "approved";
                approvers.addAll(others);
            } else if (approvalState == null || !approvalState.equals("approved")) {
                approvalState = approval.state().equals("approved") ? "approved by its requester only" : approval.state();
            }
        }
        String problem = null;
        if (!gatePassed) {
            problem = "run " + runId + " has no passed gate over a validation of this candidate (a gate task that"
                    + " passed the report of a validate task that measured artifact " + sha256.substring(0, 12) + ")";
        } else if (approvalState == null) {
            problem = "run " + runId + " has no approval: add an approval task after its gate";
        } else if (approvers.isEmpty()) {
            problem = "run " + runId + "'s approval is " + approvalState;
        }
        return new CandidateEvidence(sha256, "valid", runId, task, gatePassed, approvalState, List.copyOf(approvers), problem);
    }

    /** Who approved, leaving out the requester (whom the workflow already refuses; the record is checked again). */
    private List<String> approvers(Approval approval) {
        return approvals.decisions(approval.id()).stream().filter(d -> d.decision().equals("approve"))
                .map(ApprovalDecision::reviewer).filter(r -> !Principals.same(r, approval.requestedBy())).toList();
    }

    /**
     * A gate task of the run succeeded on a report that a validate task of the same run generated while
     * measuring this artifact as its model: the gate judged this candidate, not another model or a report
     * someone uploaded.
     */
    private boolean gatePassedOver(String sha256, List<TaskRun> tasks) {
        Set<String> reportsOfThisCandidate = tasks.stream()
                .filter(t -> t.operator().equals("validate") && t.status().equals("success"))
                .map(t -> lineage.edgesOf(t.id()))
                .filter(edges -> edges.stream().anyMatch(e -> e.relation() == Relation.USED && "model".equals(e.role())
                        && sha256.equals(e.artifactSha256())))
                .flatMap(edges -> edges.stream().filter(e -> e.relation() == Relation.GENERATED && "report".equals(e.role())))
                .map(LineageEdge::artifactSha256).collect(Collectors.toSet());
        return tasks.stream().filter(t -> t.operator().equals("gate") && t.status().equals("success"))
                .anyMatch(t -> lineage.edgesOf(t.id()).stream().anyMatch(e -> e.relation() == Relation.USED
                        && "report".equals(e.role()) && reportsOfThisCandidate.contains(e.artifactSha256())));
    }
}
