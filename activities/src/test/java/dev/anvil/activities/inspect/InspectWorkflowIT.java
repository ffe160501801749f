package dev.anvil.activities.inspect;

import dev.anvil.storage.ObjectStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;

/**
 * The inspect scenario against the production images: PostgreSQL, MinIO and a Temporal server (the
 * Temporal CLI's dev server, a real Go server, unlike the Java one of the local stack). Skipped where
 * no Docker engine runs; {@link InspectWorkflowTest} covers the same scenario everywhere.
 */
@Testcontainers(disabledWithoutDocker = true)
class InspectWorkflowIT {
    @Container
    static final PostgreSQLContainer<?> POSTGRES = new PostgreSQLContainer<>(DockerImageName.parse("postgres:16.9-alpine"));

    @Container
    static final MinIOContainer MINIO = new MinIOContainer(DockerImageName.parse("minio/minio:RELEASE.2025-04-22T22-12-26Z"));

    @Container
    static final GenericContainer<?> TEMPORAL = new GenericContainer<>(DockerImageName.parse("temporalio/temporal:1.4.1"))
            .withCommand("server", "start-dev", "--ip", "0.0.0.0", "--headless")
            .withExposedPorts(7233)
            .waitingFor(Wait.forListeningPort());

    private static InspectScenario scenario;

    @BeforeAll
    static void start() {
        PGSimpleDataSource db = new PGSimpleDataSource();
        db.setURL(POSTGRES.getJdbcUrl());
        db.setUser(POSTGRES.getUsername());
        db.setPassword(POSTGRES.getPassword());
        ObjectStore objects = ObjectStore.connect(MINIO.getS3URL(), MINIO.getUserName(), MINIO.getPassword(),
                "inspect-workflow-it");
        scenario = new InspectScenario(TEMPORAL.getHost() + ":" + TEMPORAL.getMappedPort(7233), objects, db);
    }

    @AfterAll
    static void stop() {
        if (scenario != null) {
            scenario.close();
        }
    }

    @Test
    void inspectsTheRealModelWithRunStateAndLineage() throws Exception {
        scenario.inspectsTheRealModelWithRunStateAndLineage();
    }

    @Test
    void aCorruptModelFailsOnceWithAClearReason() throws Exception {
        scenario.aCorruptModelFailsOnceWithAClearReason();
    }
}
