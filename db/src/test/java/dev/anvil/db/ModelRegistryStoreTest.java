package dev.anvil.db;

import static dev.anvil.db.TestData.artifact;
import static dev.anvil.db.TestData.sha256Of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class ModelRegistryStoreTest {

    private final DataSource db = TestPostgres.migratedDatabase();
    private final ArtifactStore artifacts = new ArtifactStore(db);
    private final ModelRegistryStore registry = new ModelRegistryStore(db);

    @Test
    void createsAModelOnce() {
        Model first = registry.createModel("resnet50", "image classifier");
        Model again = registry.createModel("resnet50", "another description");

        assertThat(again).isEqualTo(first);
        assertThat(registry.findModel("resnet50")).contains(first);
        assertThat(registry.listModels()).containsExactly(first);
    }

    @Test
    void versionsAreNumberedPerModelAndTheSameArtifactKeepsItsVersion() {
        registry.createModel("resnet50", null);
        registry.createModel("bert", null);
        artifact(artifacts, "v1", null);
        artifact(artifacts, "v2", null);

        ModelVersion v1 = registry.registerVersion("resnet50", sha256Of("v1"), null, "{\"top1\": 0.76}");
        ModelVersion v2 = registry.registerVersion("resnet50", sha256Of("v2"), null, null);
        ModelVersion again = registry.registerVersion("resnet50", sha256Of("v1"), null, "{}");
        ModelVersion bert1 = registry.registerVersion("bert", sha256Of("v2"), null, null);

        assertThat(v1.version()).isEqualTo(1);
        assertThat(v1.metadataJson()).isEqualTo("{\"top1\": 0.76}");
        assertThat(v2.version()).isEqualTo(2);
        assertThat(again).isEqualTo(v1);
        assertThat(bert1.version()).isEqualTo(1);
        assertThat(registry.listVersions("resnet50")).extracting(ModelVersion::version).containsExactly(2, 1);
        assertThat(registry.findVersion("resnet50", 2)).contains(v2);
    }

    @Test
    void aliasesAreSetMovedAndResolved() {
        registry.createModel("resnet50", null);
        artifact(artifacts, "v1", null);
        artifact(artifacts, "v2", null);
        registry.registerVersion("resnet50", sha256Of("v1"), null, null);
        ModelVersion v2 = registry.registerVersion("resnet50", sha256Of("v2"), null, null);

        registry.setAlias("resnet50", "production", 1);
        ModelAlias moved = registry.setAlias("resnet50", "production", 2);

        assertThat(moved.version()).isEqualTo(2);
        assertThat(registry.getAlias("resnet50", "production")).contains(moved);
        assertThat(registry.resolveAlias("resnet50", "production")).contains(v2);
        assertThat(registry.getAlias("resnet50", "staging")).isEmpty();
    }

    @Test
    void mistakesAreNamed() {
        registry.createModel("resnet50", null);
        String unknown = sha256Of("never stored");

        assertThatThrownBy(() -> registry.registerVersion("resnet50", unknown, null, null))
                .isInstanceOf(DataAccessException.class)
                .hasMessage("model_versions register: artifact " + unknown
                        + " is not in artifacts; store the artifact before registering it as a version of 'resnet50'")
                .matches(e -> ((DataAccessException) e).isBadInput());
        assertThatThrownBy(() -> registry.registerVersion("nope", unknown, null, null))
                .hasMessage("model_versions register: model 'nope' does not exist; create it first");
        assertThatThrownBy(() -> registry.setAlias("resnet50", "production", 7))
                .hasMessage("model_aliases set: model 'resnet50' has no version 7;"
                        + " register the version before pointing alias 'production' at it");
    }
}
