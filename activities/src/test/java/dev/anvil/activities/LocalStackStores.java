package dev.anvil.activities;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.Attestations;
import dev.anvil.activities.provenance.SigningKey;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.AttestationStore;
import dev.anvil.db.LineageStore;
import dev.anvil.db.Migrations;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.TaskRunStore;
import dev.anvil.devstack.LocalStack;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.storage.ObjectStore;
import dev.anvil.workflows.ArtifactRef;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The stores an operator test needs, on the shared local stack: a fresh migrated database and a bucket
 * of its own, and uploads registered as artifacts the way the API registers them.
 */
public record LocalStackStores(DataSource db, PipelineRunStore runs, TaskRunStore taskRuns, LineageStore lineage,
        ArtifactStore artifacts, ModelRegistryStore registry, ObjectStore objects) {
    public static final SigningKey SIGNING_KEY = SigningKey.generate();

    public static LocalStackStores open(String databasePrefix, String bucket) throws Exception {
        LocalStack stack = SharedLocalStack.get();
        PGSimpleDataSource db = new PGSimpleDataSource();
        db.setURL(SharedLocalStack.freshDatabase(databasePrefix));
        db.setUser(stack.config().dbUser());
        db.setPassword(stack.config().dbPassword());
        Migrations.migrate(db);
        ObjectStore objects = ObjectStore.connect(stack.s3Endpoint(), stack.config().s3AccessKey(),
                stack.config().s3SecretKey(), bucket);
        objects.ensureBucket();
        return new LocalStackStores(db, new PipelineRunStore(db), new TaskRunStore(db), new LineageStore(db),
                new ArtifactStore(db), new ModelRegistryStore(db), objects);
    }

    /** Signs provenance with a key made for this test JVM; {@link #SIGNING_KEY} verifies it. */
    public ArtifactIO artifactIO(ObjectMapper json) {
        return new ArtifactIO(objects, artifacts, lineage, json, new Attestations(SIGNING_KEY, attestations(),
                taskRuns, runs, new PipelineStore(db), artifacts, lineage, json));
    }

    public AttestationStore attestations() {
        return new AttestationStore(db);
    }

    /** Stores the file and registers it as an uploaded artifact (no task run made it). */
    public ArtifactRef upload(Path file, String mediaType) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            ArtifactRef ref = ArtifactIO.ref(objects.put(in, mediaType, Optional.empty()).ref());
            artifacts.insert(ref.sha256(), ref.uri(), ref.size(), ref.mediaType(), null);
            return ref;
        }
    }
}
