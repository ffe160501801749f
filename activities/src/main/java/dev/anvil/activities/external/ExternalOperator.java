package dev.anvil.activities.external;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.ExternalTaskStore;
import dev.anvil.storage.ObjectStore;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The {@code external} operator: hands a training job to a configured service and returns at once, leaving the
 * attempt open (Temporal's asynchronous completion), so no worker slot waits on hours of training. The job carries
 * presigned GET URLs of the inputs, a presigned PUT URL for the model, and a callback URL holding an opaque token
 * that {@link ExternalCompletion} maps back to the attempt. See docs/external-training.md.
 */
public final class ExternalOperator implements Operator {
    /** Uploads land here until the service completes the task; then they are stored by sha256 and removed. */
    public static String uploadName(String taskId) {
        return "external-" + taskId + ".model";
    }

    private static final Duration MAX_URL_LIFETIME = Duration.ofDays(7);
    private static final Duration POST_TIMEOUT = Duration.ofSeconds(30);

    private final ArtifactIO io;
    private final ObjectStore objects;
    private final ExternalTaskStore tasks;
    private final TrainingServices services;
    private final Supplier<String> publicUrl;
    private final HttpClient http;
    private final ObjectMapper json;

    /** @param publicUrl the base URL services reach Anvil's API at (ANVIL_PUBLIC_URL) */
    public ExternalOperator(ArtifactIO io, ObjectStore objects, ExternalTaskStore tasks, TrainingServices services,
                            Supplier<String> publicUrl, HttpClient http) {
        this.io = io;
        this.objects = objects;
        this.tasks = tasks;
        this.services = services;
        this.publicUrl = publicUrl;
        this.http = http;
        this.json = io.json();
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.EXTERNAL;
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        TrainingService service = services.require(with.get("service") instanceof String s ? s : null);
        Duration timeout = BuiltInOperators.externalDuration(with, "timeout", BuiltInOperators.EXTERNAL_TIMEOUT);
        Duration heartbeat = BuiltInOperators.externalDuration(with, "heartbeat_timeout",
                BuiltInOperators.EXTERNAL_HEARTBEAT);
        // the URLs outlive the attempt a little, so a service finishing at the deadline can still upload
        Duration lifetime = timeout.plusMinutes(10).compareTo(MAX_URL_LIFETIME) > 0 ? MAX_URL_LIFETIME
                : timeout.plusMinutes(10);

        Map<String, Object> inputs = new LinkedHashMap<>();
        if (with.get("inputs") instanceof Map<?, ?> declared) {
            @SuppressWarnings("unchecked")
            Map<String, Object> named = (Map<String, Object>) declared;
            for (String name : named.keySet()) {
                ArtifactRef ref = io.resolve("external", named, name);
                if (!objects.exists(ref.sha256())) {
                    throw new InvalidTaskInputException("external: with.inputs." + name + " names artifact "
                            + ref.sha256() + ", which is not in object storage");
                }
                io.used(context, ref, name);
                inputs.put(name, Map.of("url", objects.presignedGetUrl(ref.sha256(), lifetime), "sha256", ref.sha256(),
                        "size", ref.size(), "mediaType", ref.mediaType() == null ? "application/octet-stream"
                                : ref.mediaType()));
            }
        } else if (with.get("inputs") != null) {
            throw new InvalidTaskInputException("external: with.inputs must map names to artifacts, e.g."
                    + " {train: dataset:mnist@3}; got " + with.get("inputs"));
        }

        String token = CallbackTokens.newToken();
        String id = CallbackTokens.id(token);
        tasks.create(id, context.runId(), context.taskId(), context.attempt(), context.taskRunId(), service.name(),
                context.temporalTaskToken());
        String callback = publicUrl.get().replaceAll("/+$", "") + "/api/tasks/" + token;

        Map<String, Object> job = new LinkedHashMap<>();
        job.put("run", context.runId());
        job.put("task", context.taskId());
        job.put("attempt", context.attempt());
        job.put("token", token);
        job.put("inputs", inputs);
        job.put("upload", Map.of("model", Map.of("url", objects.presignedPutUrl(uploadName(id), lifetime),
                "method", "PUT")));
        job.put("callback", Map.of("heartbeat", callback + "/heartbeat", "complete", callback + "/complete",
                "fail", callback + "/fail"));
        job.put("heartbeat_timeout_seconds", heartbeat.toSeconds());
        job.put("timeout_seconds", timeout.toSeconds());
        job.put("params", with.get("params") instanceof Map<?, ?> params ? params : Map.of());

        post(service, job);
        context.completeLater();
        return Map.of();
    }

    /** A refusal (4xx) is bad input and not retried; anything else (5xx, no answer) is retried by Temporal. */
    private void post(TrainingService service, Map<String, Object> job) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(service.jobsUrl()).timeout(POST_TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(job)));
        service.authorization().ifPresent(value -> request.header("Authorization", value));
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IOException("training service '" + service.name() + "' at " + service.jobsUrl()
                    + " did not take the job: " + e.getMessage(), e);
        }
        int status = response.statusCode();
        if (status / 100 == 2) {
            return;
        }
        String body = response.body() == null ? "" : response.body().strip();
        String said = body.isEmpty() ? "" : ": " + (body.length() > 300 ? body.substring(0, 300) + "..." : body);
        if (status / 100 == 4) {
            throw new InvalidTaskInputException("training service '" + service.name() + "' refused the job with HTTP "
                    + status + said);
        }
        throw new IOException("training service '" + service.name() + "' answered HTTP " + status + said);
    }
}
