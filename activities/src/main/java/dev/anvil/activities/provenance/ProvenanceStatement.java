package dev.anvil.activities.provenance;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An in-toto Statement v1 about artifacts, with an SLSA Provenance v1 predicate saying which task of which
 * run made them, from what inputs, with what parameters. Fields follow the specifications' names, so
 * the JSON is the statement (https://in-toto.io/Statement/v1, https://slsa.dev/provenance/v1).
 */
public final class ProvenanceStatement {
    public static final String STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
    public static final String PREDICATE_TYPE = "https://slsa.dev/provenance/v1";
    /** What an Anvil pipeline task is as a build: externalParameters and internalParameters below follow it. */
    public static final String BUILD_TYPE = "https://anvil.dev/provenance/pipeline-task/v1";
    /** The builder: the Anvil worker that ran the task. */
    public static final String BUILDER_ID = "https://anvil.dev/builder/worker/v1";

    private ProvenanceStatement() {}

    /** An artifact named with its digest (an in-toto ResourceDescriptor). */
    public record Resource(String name, String uri, String sha256) {
        Map<String, Object> toJson() {
            Map<String, Object> json = new LinkedHashMap<>();
            if (name != null) {
                json.put("name", name);
            }
            if (uri != null) {
                json.put("uri", uri);
            }
            json.put("digest", Map.of("sha256", sha256));
            return json;
        }
    }

    /**
     * What the task was asked to do and what it ran in.
     *
     * @param pipeline the pipeline's name, null for a run outside a pipeline
     * @param specSha256 the sha256 of the pipeline spec version the run used, null when unknown
     * @param with the task's parameters as resolved when it ran (references replaced by their values)
     * @param invocationId the run, task and attempt
     */
    public record Invocation(String pipeline, String specSha256, String task, Map<String, Object> with, String operator,
                             String runId, int attempt, String invocationId, Instant startedOn) {}

    /** The statement as JSON-ready maps, in the specifications' field order. */
    public static Map<String, Object> of(List<Resource> subjects, Invocation invocation, List<Resource> inputs) {
        Map<String, Object> external = new LinkedHashMap<>();
        external.put("pipeline", invocation.pipeline());
        if (invocation.specSha256() != null) {
            external.put("specSha256", invocation.specSha256());
        }
        external.put("task", invocation.task());
        external.put("with", invocation.with());

        Map<String, Object> buildDefinition = new LinkedHashMap<>();
        buildDefinition.put("buildType", BUILD_TYPE);
        buildDefinition.put("externalParameters", external);
        buildDefinition.put("internalParameters", Map.of("operator", invocation.operator()));
        buildDefinition.put("resolvedDependencies", inputs.stream().map(Resource::toJson).toList());

        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("invocationId", invocation.invocationId());
        if (invocation.startedOn() != null) {
            metadata.put("startedOn", invocation.startedOn().toString());
        }
        Map<String, Object> runDetails = new LinkedHashMap<>();
        runDetails.put("builder", Map.of("id", BUILDER_ID));
        runDetails.put("metadata", metadata);

        Map<String, Object> predicate = new LinkedHashMap<>();
        predicate.put("buildDefinition", buildDefinition);
        predicate.put("runDetails", runDetails);

        Map<String, Object> statement = new LinkedHashMap<>();
        statement.put("_type", STATEMENT_TYPE);
        statement.put("subject", subjects.stream().map(Resource::toJson).toList());
        statement.put("predicateType", PREDICATE_TYPE);
        statement.put("predicate", predicate);
        return statement;
    }
}
