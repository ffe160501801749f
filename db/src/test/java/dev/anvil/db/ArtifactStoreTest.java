package dev.anvil.db;

import static dev.anvil.db.TestData.sha256Of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class ArtifactStoreTest {

    private final DataSource db = TestPostgres.migratedDatabase();
    private final ArtifactStore artifacts = new ArtifactStore(db);

    @Test
    void insertsAndFindsAnArtifact() {
        new PipelineRunStore(db).create("run-1", "p", null, "u");
        long taskRun = new TaskRunStore(db).start("run-1", "export", 1, "ExportOperator", null);

        Artifact stored = artifacts.insert(sha256Of("model"), "s3://anvil/model.onnx", 1234, "application/onnx", taskRun);

        assertThat(stored.sha256()).isEqualTo(sha256Of("model"));
        assertThat(stored.sizeBytes()).isEqualTo(1234);
        assertThat(stored.createdByTaskRun()).isEqualTo(taskRun);
        assertThat(stored.createdAt()).isNotNull();
        assertThat(artifacts.find(sha256Of("model"))).contains(stored);
        assertThat(artifacts.find(sha256Of("other"))).isEmpty();
    }

    @Test
    void insertingTheSameBytesAgainReturnsTheFirstRow() {
        Artifact first = artifacts.insert(sha256Of("x"), "s3://anvil/a", 1, "text/plain", null);
        Artifact again = artifacts.insert(sha256Of("x"), "s3://anvil/b", 1, "text/plain", null);

        assertThat(again).isEqualTo(first);
        assertThat(again.uri()).isEqualTo("s3://anvil/a");
    }

    @Test
    void badSha256IsRefusedWithTheReason() {
        assertThatThrownBy(() -> artifacts.insert("ABC123", "s3://anvil/a", 1, "text/plain", null))
                .isInstanceOf(DataAccessException.class)
                .hasMessage("artifacts insert: sha256 'ABC123' is not 64 lowercase hex characters"
                        + " (hex-encode the SHA-256 digest)")
                .matches(e -> ((DataAccessException) e).isBadInput());
        assertThatThrownBy(() -> artifacts.insert(sha256Of("x").toUpperCase(), "s3://anvil/a", 1, "text/plain", null))
                .hasMessageContaining("is not 64 lowercase hex characters");
    }

    @Test
    void theDatabaseChecksSha256TooForWritersThatBypassTheStore() {
        assertThatThrownBy(() -> new Jdbc(db).withConnection("artifacts", "raw insert", c -> Jdbc.update(c,
                "INSERT INTO artifacts (sha256, uri, size_bytes, media_type) VALUES ('xyz', 'u', 1, 't')")))
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("artifacts_sha256_check");
    }

    @Test
    void unknownCreatingTaskRunIsNamed() {
        assertThatThrownBy(() -> artifacts.insert(sha256Of("x"), "s3://anvil/a", 1, "text/plain", 42L))
                .hasMessage("artifacts insert: createdByTaskRun 42 is not a task run; record the task run's start first");
    }
}
