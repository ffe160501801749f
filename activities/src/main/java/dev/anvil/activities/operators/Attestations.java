package dev.anvil.activities.operators;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.provenance.Dsse;
import dev.anvil.activities.provenance.ProvenanceStatement;
import dev.anvil.activities.provenance.SigningKey;
import dev.anvil.db.Artifact;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.AttestationStore;
import dev.anvil.db.LineageEdge;
import dev.anvil.db.LineageStore;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.PipelineVersion;
import dev.anvil.db.Relation;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.ArtifactRef;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Signs the provenance of an artifact a task attempt published and stores the envelope. Everything in
 * the statement comes from what the database recorded of the attempt (its run, pipeline version,
 * resolved parameters and the inputs its lineage says it used), not from what the operator says.
 */
public final class Attestations {
    private final SigningKey key;
    private final AttestationStore attestations;
    private final TaskRunStore taskRuns;
    private final PipelineRunStore runs;
    private final PipelineStore pipelines;
    private final ArtifactStore artifacts;
    private final LineageStore lineage;
    private final ObjectMapper json;

    public Attestations(SigningKey key, AttestationStore attestations, TaskRunStore taskRuns, PipelineRunStore runs,
                        PipelineStore pipelines, ArtifactStore artifacts, LineageStore lineage,
                        ObjectMapper json) {
        this.key = key;
        this.attestations = attestations;
        this.taskRuns = taskRuns;
        this.runs = runs;
        this.pipelines = pipelines;
        this.artifacts = artifacts;
        this.lineage = lineage;
        this.json = json;
    }

    /**
     * Attests that the task attempt produced {@code output} in the role given (the statement's subject name);
     * a second call for the same attempt keeps the first.
     */
    public void attest(long taskRunId, ArtifactRef output, String role) {
        TaskRun task = taskRuns.find(taskRunId).orElseThrow(() -> new IllegalStateException(
                "no task run " + taskRunId + " to attest artifact " + output.sha256() + " for"));
        Optional<PipelineRun> run = runs.find(task.runId());
        String pipeline = run.map(PipelineRun::pipeline).orElse(null);
        String specSha256 = run.filter(r -> r.pipelineVersion() != null)
                .flatMap(r -> pipelines.find(r.pipeline(), r.pipelineVersion())).map(PipelineVersion::specSha256)
                .orElse(null);
        Map<String, Object> with = parameters(task);
        List<ProvenanceStatement.Resource> inputs = lineage.edgesOf(taskRunId).stream()
                .filter(e -> e.relation() == Relation.USED).map(this::input).toList();
        ProvenanceStatement.Invocation invocation = new ProvenanceStatement.Invocation(pipeline, specSha256,
                task.taskId(), with, task.operator(), task.runId(), task.attempt(),
                task.runId() + "/" + task.taskId() + "/" + task.attempt(), task.startedAt());
        Map<String, Object> statement = ProvenanceStatement.of(
                List.of(new ProvenanceStatement.Resource(role, output.uri(), output.sha256())), invocation, inputs);
        try {
            Dsse.Envelope envelope = Dsse.sign(Dsse.IN_TOTO_PAYLOAD_TYPE, json.writeValueAsBytes(statement), key);
            attestations.record(output.sha256(), taskRunId, json.writeValueAsString(envelope));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the provenance of " + output.sha256() + ": " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> parameters(TaskRun task) {
        if (task.parametersJson() == null || task.parametersJson().isBlank()) {
            return Map.of();
        }
        try {
            return json.readValue(task.parametersJson(), LinkedHashMap.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("task run " + task.id() + " has unreadable parameters: " + e.getMessage(), e);
        }
    }

    private ProvenanceStatement.Resource input(LineageEdge edge) {
        String uri = artifacts.find(edge.artifactSha256()).map(Artifact::uri).orElse(null);
        return new ProvenanceStatement.Resource(edge.role(), uri, edge.artifactSha256());
    }
}
