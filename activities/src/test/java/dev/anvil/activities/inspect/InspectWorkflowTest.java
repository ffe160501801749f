package dev.anvil.activities.inspect;

import dev.anvil.devstack.LocalStack;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.storage.ObjectStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/** The inspect scenario on the local stack: Temporal dev server, S3Proxy, embedded PostgreSQL. */
class InspectWorkflowTest {
    private static InspectScenario scenario;

    @BeforeAll
    static void start() {
        LocalStack stack = SharedLocalStack.get();
        PGSimpleDataSource db = new PGSimpleDataSource();
        db.setURL(SharedLocalStack.freshDatabase("inspect_wf"));
        db.setUser(stack.config().dbUser());
        db.setPassword(stack.config().dbPassword());
        ObjectStore objects = ObjectStore.connect(stack.s3Endpoint(), stack.config().s3AccessKey(),
                stack.config().s3SecretKey(), "inspect-workflow-test");
        scenario = new InspectScenario(stack.temporalTarget(), objects, db);
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
