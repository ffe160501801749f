package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class DatasetStoreTest {
    private static final String INPUTS = "{\"input_image\": {\"dtype\": \"float32\", \"shape\": [1, 28, 28]},"
            + " \"aux\": {\"dtype\": \"int64\", \"shape\": [3]}}";

    private final DataSource db = TestPostgres.migratedDatabase();
    private final ArtifactStore artifacts = new ArtifactStore(db);
    private final DatasetStore datasets = new DatasetStore(db);

    @Test
    void everyRegistrationAddsTheNextVersionOfItsName() {
        Artifact a = TestData.artifact(artifacts, "digits-a", null);
        Artifact b = TestData.artifact(artifacts, "digits-b", null);

        DatasetVersion v1 = datasets.register("mnist", a.sha256(), "mnist", INPUTS, 300, true, "alice");
        DatasetVersion v2 = datasets.register("mnist", b.sha256(), "npy", INPUTS, 20, false, "bob");
        // the same bytes again are still a new version: registering is the event retraining triggers on
        DatasetVersion v3 = datasets.register("mnist", b.sha256(), "npy", INPUTS, 20, false, "bob");
        DatasetVersion other = datasets.register("iris", a.sha256(), "csv", INPUTS, 150, true, "carol");

        assertThat(v1.version()).isEqualTo(1);
        assertThat(v2.version()).isEqualTo(2);
        assertThat(v3.version()).isEqualTo(3);
        assertThat(other.version()).isEqualTo(1);
        assertThat(v1.artifactSha256()).isEqualTo(a.sha256());
        assertThat(v1.format()).isEqualTo("mnist");
        assertThat(v1.sampleCount()).isEqualTo(300);
        assertThat(v1.hasLabels()).isTrue();
        assertThat(v1.createdBy()).isEqualTo("alice");
        assertThat(v1.createdAt()).isNotNull();
        // json, not jsonb: the inputs keep the archive's order
        assertThat(v1.inputsJson()).isEqualTo(INPUTS);

        assertThat(datasets.latest("mnist")).contains(v3);
        assertThat(datasets.find("mnist", 2)).contains(v2);
        assertThat(datasets.find("mnist", 9)).isEmpty();
        assertThat(datasets.versions("mnist")).extracting(DatasetVersion::version).containsExactly(3, 2, 1);
        assertThat(datasets.versions("nope")).isEmpty();
        assertThat(datasets.listLatest()).extracting(DatasetVersion::dataset, DatasetVersion::version)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("iris", 1),
                        org.assertj.core.groups.Tuple.tuple("mnist", 3));
    }

    @Test
    void aBadNameOrAnUnknownArtifactIsRefusedByTheDatabase() {
        Artifact a = TestData.artifact(artifacts, "named", null);
        assertThatThrownBy(() -> datasets.register("Bad Name!", a.sha256(), "npy", INPUTS, 1, false, "alice"))
                .isInstanceOf(DataAccessException.class);
        assertThatThrownBy(() -> datasets.register("ghost", TestData.sha256Of("never stored"), "npy", INPUTS, 1,
                false, "alice")).isInstanceOf(DataAccessException.class);
        assertThat(datasets.versions("ghost")).isEmpty();
    }
}
