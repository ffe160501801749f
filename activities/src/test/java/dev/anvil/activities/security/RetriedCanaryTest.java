package dev.anvil.activities.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.rollout.RolloutActivitiesImpl;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.Endpoint;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.RolloutStore;
import dev.anvil.db.ServingCountsStore;
import dev.anvil.db.ServingSessionsStore;
import dev.anvil.db.TrafficChange;
import dev.anvil.workflows.rollout.CanaryRequest;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Retrying a run whose canary had rolled back put the rejected model back on 10 % of live traffic with
 * nothing managing it: the retry reused the rollout's id, adopted the canary at its old weight, and the
 * weight moved before the finished rollout refused the step. A rollout now owns the canary it sets; a
 * finished one is never resumed, a second one is refused naming the first, and a restarted one starts
 * again from its first step.
 */
class RetriedCanaryTest {
    private static final String STABLE = "1".repeat(64);
    private static final String CANDIDATE = "2".repeat(64);

    private EndpointStore endpoints;
    private RolloutStore rollouts;
    private RolloutActivitiesImpl activities;

    @BeforeEach
    void setUp() throws Exception {
        LocalStackStores stores = LocalStackStores.open("retried_canary", "anvil-retried-canary-test");
        endpoints = new EndpointStore(stores.db());
        rollouts = new RolloutStore(stores.db());
        ServingSessionsStore sessions = new ServingSessionsStore(stores.db());
        for (String sha : List.of(STABLE, CANDIDATE)) {
            stores.artifacts().insert(sha, "s3://anvil/" + sha, 10, "application/onnx", null);
        }
        stores.registry().createModel("digits", null);
        stores.registry().registerVersion("digits", STABLE, null, null);
        endpoints.put("digits", "digits", 1, null, TrafficChange.byHand("admin", null));
        sessions.loaded("api-1", CANDIDATE); // a serving process has the candidate loaded
        activities = new RolloutActivitiesImpl(endpoints, sessions, new ServingCountsStore(stores.db()),
                stores.registry(), rollouts, new AuditLogStore(stores.db()), stores.lineage(), new ObjectMapper(),
                Duration.ofSeconds(5), Duration.ofSeconds(30), (request, breakGlass) -> {
                    // these tests are about who owns a canary; the evidence a candidate needs is CandidateEvidenceTest's
                });
    }

    @Test
    void aRetriedRolledBackCanaryIsRefusedAndNeverBackOnTraffic() {
        activities.begin(request("rollout-run-1-canary"));
        activities.setWeight("rollout-run-1-canary", "digits", 10, "running", null);
        activities.rollBack("rollout-run-1-canary", "digits", "rolled_back", null, "anvil", "error rate 0.2 > 0.01");

        // the retried task starts the same rollout again, then steps to its first weight
        assertThatThrownBy(() -> activities.begin(request("rollout-run-1-canary")))
                .isInstanceOf(ApplicationFailure.class)
                .hasMessageContaining("rollout 'rollout-run-1-canary' already ended rolled_back (error rate 0.2 > 0.01)")
                .satisfies(e -> assertThat(((ApplicationFailure) e).isNonRetryable()).isTrue());
        assertThatThrownBy(() -> activities.setWeight("rollout-run-1-canary", "digits", 10, "running", null))
                .isInstanceOf(ApplicationFailure.class);

        Endpoint endpoint = endpoints.find("digits").orElseThrow();
        assertThat(endpoint.canaryVersion()).as("the rejected model is not back").isNull();
        assertThat(endpoint.canaryWeight()).isZero();
    }

    @Test
    void aSecondRolloutIsRefusedWhileAnotherManagesTheCanaryNamingIt() {
        activities.begin(request("rollout-a"));
        activities.setWeight("rollout-a", "digits", 25, "running", null);

        assertThatThrownBy(() -> activities.begin(request("rollout-b")))
                .isInstanceOf(ApplicationFailure.class)
                .hasMessageContaining("'rollout-a'");
        assertThatThrownBy(() -> activities.setWeight("rollout-b", "digits", 50, "running", null))
                .isInstanceOf(ApplicationFailure.class);
        Endpoint endpoint = endpoints.find("digits").orElseThrow();
        assertThat(endpoint.canaryRollout()).isEqualTo("rollout-a");
        assertThat(endpoint.canaryWeight()).isEqualTo(25);
    }

    @Test
    void aRestartedRolloutStartsAgainFromItsFirstStepNotItsOldWeight() {
        activities.begin(request("rollout-a"));
        activities.setWeight("rollout-a", "digits", 50, "running", null);

        activities.begin(request("rollout-a")); // its workflow started again under the same id

        Endpoint endpoint = endpoints.find("digits").orElseThrow();
        assertThat(endpoint.canaryWeight()).isZero();
        assertThat(endpoint.canaryRollout()).isEqualTo("rollout-a");
        assertThat(rollouts.find("rollout-a").orElseThrow().state()).isEqualTo("running");
    }

    private static CanaryRequest request(String id) {
        return new CanaryRequest(id, "digits", CANDIDATE, List.of(10, 50, 100), 1, 1, 0.01, 1.5, 1, null, "alice");
    }
}
