package dev.anvil.storage;

import io.minio.MinioClient;
import org.junit.jupiter.api.BeforeAll;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;

/**
 * The store's round-trip and mismatch scenarios against real MinIO (the production server) in a
 * container. Skipped where there is no Docker; {@link ObjectStoreTest} runs the same scenarios everywhere.
 */
@Testcontainers(disabledWithoutDocker = true)
class ObjectStoreIT extends ObjectStoreScenarios {
    @Container
    private static final MinIOContainer MINIO =
            new MinIOContainer(DockerImageName.parse("minio/minio:RELEASE.2025-04-22T22-12-26Z"));

    private static final String BUCKET = randomBucket("objectstore-it");
    private static MinioClient client;

    @BeforeAll
    static void connect() {
        client = MinioClient.builder().endpoint(MINIO.getS3URL())
                .credentials(MINIO.getUserName(), MINIO.getPassword()).build();
    }

    @Override
    protected MinioClient client() {
        return client;
    }

    @Override
    protected String bucket() {
        return BUCKET;
    }
}
