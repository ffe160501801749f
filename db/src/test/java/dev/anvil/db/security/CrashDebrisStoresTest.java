package dev.anvil.db.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.db.ArtifactStore;
import dev.anvil.db.AuditEntry;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.DataAccessException;
import dev.anvil.db.Endpoint;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.db.TestPostgres;
import dev.anvil.db.TrafficChange;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * The stores' half of "crashes leave debris": a stale attempt never writes over its task record, a
 * rollout steers only the canary it set, and every traffic change commits with its audit row.
 */
class CrashDebrisStoresTest {
    private static final TrafficChange ADMIN = TrafficChange.byHand("admin", "by hand");

    private final DataSource db = TestPostgres.migratedDatabase();
    private final TaskRunStore tasks = new TaskRunStore(db);
    private final EndpointStore endpoints = new EndpointStore(db);
    private final AuditLogStore audit = new AuditLogStore(db);

    CrashDebrisStoresTest() {
        new PipelineRunStore(db).create("run-1", "demo", "{}", "alice");
        ArtifactStore artifacts = new ArtifactStore(db);
        ModelRegistryStore registry = new ModelRegistryStore(db);
        registry.createModel("digits", null);
        for (String sha : List.of("1".repeat(64), "2".repeat(64), "3".repeat(64))) {
            artifacts.insert(sha, "s3://anvil/" + sha, 1, "application/octet-stream", null);
            registry.registerVersion("digits", sha, null, null);
        }
        endpoints.put("digits", "digits", 1, null, ADMIN);
    }

    @Test
    void aCancelledAttemptThatCarriesOnNeverOverwritesItsRecordWithSuccess() {
        long id = tasks.start("run-1", "train", 1, "sleep", "{}");
        // the run was cancelled: the workflow records the running attempt as failed
        tasks.finish(id, "failed", null, "cancelled with the run");

        TaskRun late = tasks.finish(id, "success", "{\"slept_seconds\": 5}", null);

        assertThat(late.status()).isEqualTo("failed");
        assertThat(late.error()).isEqualTo("cancelled with the run");
        assertThat(late.metricsJson()).isNull();
    }

    @Test
    void anAttemptGivenUpForALaterOneIsClosedAndItsLateEndIgnored() {
        long first = tasks.start("run-1", "train", 1, "sleep", "{}");
        long second = tasks.start("run-1", "train", 2, "sleep", "{}");

        TaskRun closed = tasks.find(first).orElseThrow();
        assertThat(closed.status()).isEqualTo("up_for_retry");
        assertThat(closed.error()).contains("attempt 2 took over");
        assertThat(closed.finishedAt()).isNotNull();
        assertThat(tasks.finish(first, "success", "{}", null).status()).isEqualTo("up_for_retry");
        assertThat(tasks.finish(second, "success", "{}", null).status()).isEqualTo("success");
    }

    @Test
    void everyTrafficChangeCommitsWithItsAuditRowAndARefusedOneWritesNone() {
        TrafficChange rollout = TrafficChange.forRollout("rollout-a", "alice", "canary step");
        endpoints.setCanary("digits", 2, 0, rollout);
        endpoints.setWeight("digits", 10, rollout);
        endpoints.setWeight("digits", 10, rollout); // a retried call: no change, no row
        endpoints.promoteCanary("digits", 2, rollout);
        endpoints.setCanary("digits", 3, 5, ADMIN);
        endpoints.removeCanary("digits", ADMIN);
        assertThatThrownBy(() -> endpoints.setWeight("digits", 50, ADMIN)).isInstanceOf(DataAccessException.class);

        List<AuditEntry> rows = audit.listBySubject("endpoint:digits", 20);
        assertThat(rows).extracting(AuditEntry::action).containsExactly("endpoint.canary.removed",
                "endpoint.canary.set", "endpoint.canary.promoted", "endpoint.canary.weight_changed",
                "endpoint.canary.set", "endpoint.created");
        assertThat(rows.get(3).actor()).isEqualTo("alice");
        assertThat(rows.get(3).detailsJson()).contains("\"rollout\": \"rollout-a\"", "\"weight\": 10",
                "\"reason\": \"canary step\"");
        assertThat(audit.verify().valid()).isTrue();
    }

    @Test
    void aRolloutCannotTakeOrSteerACanaryAnotherRolloutManages() {
        TrafficChange first = TrafficChange.forRollout("rollout-a", "anvil", null);
        TrafficChange second = TrafficChange.forRollout("rollout-b", "anvil", null);
        endpoints.setCanary("digits", 2, 0, first);
        endpoints.setWeight("digits", 10, first);

        assertThatThrownBy(() -> endpoints.setCanary("digits", 3, 0, second))
                .hasMessageContaining("rollout 'rollout-b' does not manage the canary of endpoint 'digits'")
                .hasMessageContaining("managed by rollout 'rollout-a'");
        assertThatThrownBy(() -> endpoints.setWeight("digits", 50, second)).hasMessageContaining("rollout-a");
        assertThatThrownBy(() -> endpoints.setWeight("digits", 50, ADMIN))
                .hasMessageContaining("is managed by rollout 'rollout-a'; steer it with POST /api/rollouts/rollout-a/");
        assertThatThrownBy(() -> endpoints.promoteCanary("digits", 2, ADMIN)).hasMessageContaining("rollout-a");
        assertThat(endpoints.removeCanary("digits", second).canaryWeight()).as("not b's to remove").isEqualTo(10);
        assertThat(endpoints.find("digits").orElseThrow().canaryRollout()).isEqualTo("rollout-a");
    }

    @Test
    void aRolledBackRolloutCanNeverPutItsCandidateBackOnTraffic() {
        TrafficChange rollout = TrafficChange.forRollout("rollout-a", "anvil", null);
        endpoints.setCanary("digits", 2, 0, rollout);
        endpoints.setWeight("digits", 10, rollout);
        endpoints.removeCanary("digits", rollout); // rolled back

        assertThatThrownBy(() -> endpoints.setWeight("digits", 10, rollout))
                .hasMessageContaining("rollout 'rollout-a' does not manage the canary of endpoint 'digits': it has no canary");
        Endpoint after = endpoints.find("digits").orElseThrow();
        assertThat(after.canaryVersion()).isNull();
        assertThat(after.canaryWeight()).isZero();
    }

    @Test
    void aRolloutRestartingOverItsOwnCanaryStartsAgainFromWeightZero() {
        TrafficChange rollout = TrafficChange.forRollout("rollout-a", "anvil", null);
        endpoints.setCanary("digits", 2, 0, rollout);
        endpoints.setWeight("digits", 50, rollout);

        Endpoint again = endpoints.setCanary("digits", 2, 0, rollout);

        assertThat(again.canaryWeight()).isZero();
        assertThat(again.canaryRollout()).isEqualTo("rollout-a");
        endpoints.removeCanary("digits", rollout);
        endpoints.setCanary("digits", 3, 0, ADMIN);
        assertThatThrownBy(() -> endpoints.setCanary("digits", 2, 0, rollout))
                .hasMessageContaining("has a canary set by hand (version 3 at 0 %)")
                .hasMessageContaining("DELETE /api/endpoints/digits/canary");
    }
}
