package dev.anvil.activities.operators;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.DatasetStore;
import dev.anvil.db.DatasetVersion;
import dev.anvil.db.LineageStore;
import dev.anvil.db.Relation;
import dev.anvil.storage.ArtifactCorruptedException;
import dev.anvil.storage.ArtifactNotFoundException;
import dev.anvil.storage.ObjectStore;
import dev.anvil.storage.PutResult;
import dev.anvil.storage.StoredObject;
import dev.anvil.workflows.ArtifactRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What operators do with artifacts: resolve a {@code with} value to a stored artifact, fetch it to a
 * local file (checksum verified), and publish a result with its artifact row and lineage edge.
 * Nothing is published until the result file is complete, so a failed task leaves nothing partial; what
 * is published carries signed provenance ({@link Attestations}).
 */
public final class ArtifactIO {
    public static final String ONNX_MEDIA_TYPE = "application/vnd.onnx";
    public static final String JSON_MEDIA_TYPE = "application/json";
    public static final String DATASET_MEDIA_TYPE = "application/vnd.anvil.dataset+zip";
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final ObjectStore objects;
    private final ArtifactStore artifacts;
    private final LineageStore lineage;
    private final ObjectMapper json;
    private static final Pattern DATASET_REFERENCE = Pattern.compile("dataset:([a-z0-9][a-z0-9_-]{0,62})@([1-9][0-9]{0,8})");
    private final Attestations attestations;
    private final DatasetStore datasets;

    public ArtifactIO(ObjectStore objects, ArtifactStore artifacts, LineageStore lineage, ObjectMapper json,
                      Attestations attestations) {
        this(objects, artifacts, lineage, json, attestations, null);
    }

    /** @param datasets resolves {@code dataset:<name>@<version>} references; null refuses them */
    public ArtifactIO(ObjectStore objects, ArtifactStore artifacts, LineageStore lineage, ObjectMapper json,
                      Attestations attestations, DatasetStore datasets) {
        this.objects = objects;
        this.artifacts = artifacts;
        this.lineage = lineage;
        this.json = json;
        this.attestations = attestations;
        this.datasets = datasets;
    }

    public ObjectMapper json() {
        return json;
    }

    /**
     * The artifact named by {@code with.<key>}: a reference map (an upstream task's output), the sha256 of
     * an uploaded artifact, or a registered dataset version, {@code "dataset:mnist@3"} or
     * {@code {name: mnist, version: 3}} (a version never changes, so the step cache still holds).
     */
    public ArtifactRef resolve(String operator, Map<String, Object> with, String key) throws IOException {
        Object value = with.get(key);
        if (value == null) {
            throw new InvalidTaskInputException(operator + " needs with." + key + ": an artifact reference or a sha256");
        }
        if (value instanceof String s && s.trim().startsWith("dataset:")) {
            Matcher m = DATASET_REFERENCE.matcher(s.trim());
            if (!m.matches()) {
                throw new InvalidTaskInputException(operator + ": with." + key + " '" + s + "' is not a dataset"
                        + " reference; write dataset:<name>@<version>, e.g. dataset:mnist@3");
            }
            return dataset(operator, key, m.group(1), Integer.parseInt(m.group(2)));
        }
        if (value instanceof Map<?, ?> named && named.size() == 2 && named.get("name") instanceof String name
                && named.get("version") instanceof Number version) {
            return dataset(operator, key, name, version.intValue());
        }
        if (value instanceof Map<?, ?> map) {
            try {
                ArtifactRef ref = json.convertValue(map, ArtifactRef.class);
                if (ref.sha256() != null && SHA256.matcher(ref.sha256()).matches()) {
                    return ref;
                }
            } catch (IllegalArgumentException e) {
                // fall through to the error below
            }
            throw new InvalidTaskInputException(operator + ": with." + key + " is not an artifact reference: " + value);
        }
        if (value instanceof String s && SHA256.matcher(s.trim().toLowerCase()).matches()) {
            Optional<ArtifactRef> ref = objects.find(s.trim().toLowerCase()).map(ArtifactIO::ref);
            return ref.orElseThrow(() -> new InvalidTaskInputException(operator + ": no artifact with sha256 " + s
                    + " (with." + key + "); upload it with POST /api/artifacts"));
        }
        throw new InvalidTaskInputException(operator + " needs with." + key
                + ": an artifact reference or a sha256; got " + value);
    }

    private ArtifactRef dataset(String operator, String key, String name, int version) {
        if (datasets == null) {
            throw new InvalidTaskInputException(operator + ": with." + key + " names dataset " + name + "@" + version
                    + ", but this worker has no dataset registry; give the dataset's artifact sha256");
        }
        DatasetVersion found = datasets.find(name, version).orElseThrow(() -> new InvalidTaskInputException(operator
                + ": with." + key + " names version " + version + " of dataset '" + name + "', which is not registered;"
                + " GET /api/datasets/" + name + " lists its versions"));
        return objects.find(found.artifactSha256()).map(ArtifactIO::ref).orElseThrow(() ->
                new InvalidTaskInputException(operator + ": dataset " + name + "@" + version + " names artifact "
                        + found.artifactSha256() + ", which is not in object storage"));
    }

    /** Records that the task read the artifact, in the role given (e.g. {@code model}, {@code dataset}). */
    public void used(TaskContext context, ArtifactRef ref, String role) {
        lineage.addEdge(context.taskRunId(), ref.sha256(), Relation.USED, role);
    }

    /**
     * Copies the artifact to a new temporary file, verifying its checksum; the caller deletes it.
     * Missing or corrupted bytes are bad input (a retry cannot bring them back).
     */
    public Path fetch(ArtifactRef ref, String suffix) throws IOException {
        Path file = Files.createTempFile("anvil-", suffix);
        try {
            objects.copyTo(stored(ref), file);
            return file;
        } catch (ArtifactCorruptedException | ArtifactNotFoundException e) {
            Files.deleteIfExists(file);
            throw new InvalidTaskInputException(e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
    }

    /**
     * Stores a finished result file, registers it, records that this task generated it, and signs its
     * provenance. Every task output goes through here, so none is published without an attestation.
     */
    public ArtifactRef publish(TaskContext context, Path file, String mediaType, String role) throws IOException {
        PutResult put;
        try (InputStream in = Files.newInputStream(file)) {
            put = objects.put(in, mediaType, Optional.empty());
        }
        ArtifactRef ref = ref(put.ref());
        artifacts.insert(ref.sha256(), ref.uri(), ref.size(), ref.mediaType(), context.taskRunId());
        lineage.addEdge(context.taskRunId(), ref.sha256(), Relation.GENERATED, role);
        attestations.attest(context.taskRunId(), ref, role);
        return ref;
    }

    /** Publishes a JSON document (a report, a calibration table) as an artifact. */
    public ArtifactRef publishJson(TaskContext context, Object document, String role) throws IOException {
        Path file = Files.createTempFile("anvil-", ".json");
        try {
            json.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), document);
            return publish(context, file, JSON_MEDIA_TYPE, role);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * Stores a working document (e.g. a progress checkpoint) without registering it as an artifact or
     * recording lineage; only its reference is kept, by whoever needs to read it back.
     */
    public ArtifactRef saveScratch(Object document) throws IOException {
        byte[] bytes = json.writeValueAsBytes(document);
        return ref(objects.put(new java.io.ByteArrayInputStream(bytes), JSON_MEDIA_TYPE, Optional.empty()).ref());
    }

    /** Reads a document saved with {@link #saveScratch}. */
    public <T> T loadScratch(ArtifactRef ref, Class<T> type) throws IOException {
        Path file = fetch(ref, ".json");
        try {
            return json.readValue(file.toFile(), type);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** The reference as an output value (a plain map, as task outputs are JSON). */
    @SuppressWarnings("unchecked")
    public Map<String, Object> asOutput(ArtifactRef ref) {
        return json.convertValue(ref, Map.class);
    }

    /** The workflows' reference to an object the store holds. */
    public static ArtifactRef ref(StoredObject object) {
        return new ArtifactRef(object.uri(), object.sha256(), object.size(), object.mediaType());
    }

    /** The store's view of an artifact a workflow refers to. */
    public static StoredObject stored(ArtifactRef ref) {
        return new StoredObject(ref.uri(), ref.sha256(), ref.size(), ref.mediaType());
    }
}
