package dev.anvil.activities.inspect;

import ai.onnxruntime.OrtException;
import dev.anvil.activities.inspect.OnnxInspector;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.storage.ArtifactCorruptedException;
import dev.anvil.storage.ArtifactNotFoundException;
import dev.anvil.storage.ObjectStore;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.inspect.ModelReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Inspects a model held in the artifact store: fetches it to a temporary file (checksum verified),
 * inspects it, deletes the file. A stored model that is missing or corrupted is bad input, like a
 * file that is not a model, so both surface as {@link InvalidModelException}.
 */
public final class StoredModelInspector {
    private final ObjectStore objects;
    private final OnnxInspector inspector;

    public StoredModelInspector(ObjectStore objects, OnnxInspector inspector) {
        this.objects = objects;
        this.inspector = inspector;
    }

    /**
     * @throws InvalidModelException when the stored bytes are missing, corrupted or not a loadable model
     * @throws IOException or OrtException for faults worth a retry
     */
    public ModelReport inspect(ArtifactRef model) throws IOException, OrtException {
        Path file = Files.createTempFile("anvil-inspect-", ".onnx");
        try {
            objects.copyTo(ArtifactIO.stored(model), file);
            return inspector.inspect(file, model.sha256());
        } catch (ArtifactCorruptedException | ArtifactNotFoundException e) {
            throw new InvalidModelException(e.getMessage(), e);
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
