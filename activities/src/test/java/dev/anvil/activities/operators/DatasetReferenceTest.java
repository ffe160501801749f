package dev.anvil.activities.operators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.db.DatasetStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.workflows.ArtifactRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A pipeline's {@code with} may name a registered dataset version instead of its sha256. */
class DatasetReferenceTest {

    @Test
    void aDatasetVersionResolvesToItsArtifactAndAnUnknownOneIsNamed() throws Exception {
        LocalStackStores stores = LocalStackStores.open("anvil_dataset_ref", "anvil-dataset-ref");
        ObjectMapper json = new ObjectMapper();
        DatasetStore datasets = new DatasetStore(stores.db());
        ArtifactIO io = new ArtifactIO(stores.objects(), stores.artifacts(), stores.lineage(), json,
                new Attestations(LocalStackStores.SIGNING_KEY, stores.attestations(), stores.taskRuns(), stores.runs(),
                        new PipelineStore(stores.db()), stores.artifacts(), stores.lineage(), json), datasets);
        Path file = Files.createTempFile("dataset", ".zip");
        Files.writeString(file, "not really a zip; resolving never opens it");
        ArtifactRef uploaded = stores.upload(file, ArtifactIO.DATASET_MEDIA_TYPE);
        datasets.register("mnist", uploaded.sha256(), "npy", "{}", 1, false, "alice");

        assertThat(io.resolve("validate", Map.of("dataset", "dataset:mnist@1"), "dataset").sha256())
                .isEqualTo(uploaded.sha256());
        assertThat(io.resolve("validate", Map.of("dataset", Map.of("name", "mnist", "version", 1)), "dataset").sha256())
                .isEqualTo(uploaded.sha256());
        assertThatThrownBy(() -> io.resolve("quantize", Map.of("dataset", "dataset:mnist@2"), "dataset"))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("version 2 of dataset 'mnist', which is not registered");
        assertThatThrownBy(() -> io.resolve("quantize", Map.of("dataset", "dataset:mnist"), "dataset"))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("dataset:<name>@<version>");
        ArtifactIO withoutRegistry = stores.artifactIO(json);
        assertThatThrownBy(() -> withoutRegistry.resolve("quantize", Map.of("dataset", "dataset:mnist@1"), "dataset"))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("no dataset registry");
    }
}
