package dev.anvil.activities.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.RolloutStore;
import dev.anvil.db.ServingCount;
import dev.anvil.db.ServingCountsStore;
import dev.anvil.db.ServingSessionsStore;
import dev.anvil.db.TrafficChange;
import dev.anvil.workflows.rollout.CanaryRequest;
import dev.anvil.workflows.rollout.EndpointCounts;
import dev.anvil.workflows.rollout.LatencyBuckets;
import dev.anvil.workflows.rollout.RolloutStart;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The rollout's side effects go through PostgreSQL only: this process loads no model, it changes the
 * endpoint and waits for a serving process's report, and it reads the counters every serving process
 * published. Here the "serving process" is the test writing its reports.
 */
class RolloutActivitiesTest {
    private static final String STABLE = "1".repeat(64);
    private static final String CANDIDATE = "2".repeat(64);

    private LocalStackStores stores;
    private EndpointStore endpoints;
    private ServingSessionsStore sessions;
    private ServingCountsStore counts;
    private RolloutActivitiesImpl activities;

    @BeforeEach
    void setUp() throws Exception {
        stores = LocalStackStores.open("rollout_activities", "anvil-rollout-activities-test");
        endpoints = new EndpointStore(stores.db());
        sessions = new ServingSessionsStore(stores.db());
        counts = new ServingCountsStore(stores.db());
        for (String sha : List.of(STABLE, CANDIDATE)) {
            stores.artifacts().insert(sha, "s3://anvil/" + sha, 10, "application/onnx", null);
        }
        stores.registry().createModel("digits", null);
        stores.registry().registerVersion("digits", STABLE, null, null);
        endpoints.put("digits", "digits", 1, null, TrafficChange.byHand("admin", null));
        activities = new RolloutActivitiesImpl(endpoints, sessions, counts, stores.registry(),
                new RolloutStore(stores.db()), new AuditLogStore(stores.db()), stores.lineage(), new ObjectMapper(),
                Duration.ofMillis(600), Duration.ofSeconds(30), (request, breakGlass) -> {
                    if (request.endpoint().equals("refused")) {
                        throw new RolloutRefused(403, null, "run r has no passed gate");
                    }
                });
    }

    @Test
    void beginSetsTheCanaryAndReturnsOnceAServingProcessReportsItLoaded() throws Exception {
        CompletableFuture<RolloutStart> begun = CompletableFuture.supplyAsync(() -> activities.begin(request("r1")));
        // polled, not slept on: how soon the canary is set depends on the machine, not on this test
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (endpoints.find("digits").orElseThrow().canaryVersion() == null && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(endpoints.find("digits").orElseThrow().canaryVersion()).as("canary set before any report").isEqualTo(2);
        assertThat(begun).as("waits for a report").isNotDone();
        assertThat(endpoints.find("digits").orElseThrow().canaryWeight()).isZero();

        sessions.loaded("api-1", CANDIDATE);
        RolloutStart start = begun.get(5, TimeUnit.SECONDS);
        assertThat(start.stableVersion()).isEqualTo(1);
        assertThat(start.candidateVersion()).isEqualTo(2);
    }

    @Test
    void withNoServingProcessBeginFailsSayingSoAndTemporalMayRetry() {
        assertThatThrownBy(() -> activities.begin(request("r2")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no serving process reported version 2 of model 'digits'")
                .hasMessageContaining("is an Anvil API process (it hosts the gateway) running");
    }

    @Test
    void aVersionThatFailedToLoadFailsBeginWithTheServingProcesssReason() {
        sessions.failed("api-1", CANDIDATE, "artifact cannot be loaded by ONNX Runtime: invalid graph");
        assertThatThrownBy(() -> activities.begin(request("r3")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("could not be loaded for serving (process api-1)")
                .hasMessageContaining("invalid graph");
    }

    @Test
    void anUnknownEndpointIsBadInputThatNoRetryFixes() {
        CanaryRequest unknown = new CanaryRequest("r4", "nowhere", CANDIDATE, List.of(50, 100), 1, 1, 0.1, 2.0, 1,
                null, "tester");
        assertThatThrownBy(() -> activities.begin(unknown)).isInstanceOf(ApplicationFailure.class)
                .hasMessageContaining("no endpoint named 'nowhere'")
                .satisfies(e -> assertThat(((ApplicationFailure) e).isNonRetryable()).isTrue());
        assertThatThrownBy(() -> activities.setWeight("r4", "nowhere", 50, "running", null))
                .isInstanceOf(ApplicationFailure.class);
    }

    @Test
    void aCandidateTheAdmissionRefusesNeverReachesTheEndpointAndNoRetryFixesIt() {
        endpoints.put("refused", "digits", 1, null, TrafficChange.byHand("admin", null));
        CanaryRequest refused = new CanaryRequest("r5", "refused", CANDIDATE, List.of(50, 100), 60, 1, 0.1, 2.0, 1,
                null, "tester");
        assertThatThrownBy(() -> activities.begin(refused)).isInstanceOf(ApplicationFailure.class)
                .hasMessageContaining("run r has no passed gate")
                .satisfies(e -> assertThat(((ApplicationFailure) e).isNonRetryable()).isTrue());
        assertThat(endpoints.find("refused").orElseThrow().canaryVersion()).isNull();
    }

    @Test
    void readCountsSumsWhatEveryServingProcessPublished() {
        List<Long> buckets = Collections.nCopies(LatencyBuckets.count(), 0L);
        counts.publish("api-1", List.of(new ServingCount("digits", 2, "api-1", 4, 1, buckets, null)));
        counts.publish("api-2", List.of(new ServingCount("digits", 2, "api-2", 6, 0, buckets, null),
                new ServingCount("digits", 1, "api-2", 9, 0, buckets, null)));

        EndpointCounts seen = activities.readCounts("digits");
        assertThat(seen.of(2).requests()).isEqualTo(10);
        assertThat(seen.of(2).errors()).isEqualTo(1);
        assertThat(seen.of(1).requests()).isEqualTo(9);
    }

    private static CanaryRequest request(String id) {
        return new CanaryRequest(id, "digits", CANDIDATE, List.of(50, 100), 1, 1, 0.1, 2.0, 1, null, "tester");
    }
}
