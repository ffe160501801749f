package dev.anvil.activities.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.RolloutStore;
import dev.anvil.db.RolloutWindow;
import dev.anvil.db.ServingCount;
import dev.anvil.db.ServingCountsStore;
import dev.anvil.db.ServingSessionsStore;
import dev.anvil.db.TrafficChange;
import dev.anvil.workflows.rollout.Analysis;
import dev.anvil.workflows.rollout.CanaryRequest;
import dev.anvil.workflows.rollout.EndpointCounts;
import dev.anvil.workflows.rollout.LatencyBuckets;
import dev.anvil.workflows.rollout.RolloutStart;
import dev.anvil.workflows.rollout.VersionCounts;
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

    @Test
    void everyAnalysedWindowIsKeptOncePerVersionBesideTheLatest() throws Exception {
        sessions.loaded("api-1", CANDIDATE);
        activities.begin(request("r6"));
        RolloutStore rollouts = new RolloutStore(stores.db());
        List<Long> stableHist = hist(LatencyBuckets.indexOf(2_000), 400);
        List<Long> canaryHist = hist(LatencyBuckets.indexOf(2_500), 100);
        Analysis first = Analysis.evaluate(50, new VersionCounts(1, 400, 4, stableHist),
                new VersionCounts(2, 100, 1, canaryHist), 200, 0.1, 2.0, -1).numbered(1, 1_765_000_000_000L);
        activities.setWeight("r6", "digits", 50, "running", first);
        activities.setWeight("r6", "digits", 50, "paused", first); // the same window handed on with a pause
        activities.setWeight("r6", "digits", 50, "running", first); // and again on resume
        Analysis second = Analysis.evaluate(50, VersionCounts.empty(1), new VersionCounts(2, 300, 60, canaryHist),
                200, 0.1, 2.0, 2_000).numbered(2, 1_765_000_600_000L);
        activities.rollBack("r6", "digits", "rolled_back", second, "anvil", second.reason());

        List<RolloutWindow> windows = rollouts.windows("r6");
        assertThat(windows).extracting(RolloutWindow::window, RolloutWindow::role, RolloutWindow::version,
                RolloutWindow::requests, RolloutWindow::verdict).containsExactly(
                tuple(1, "canary", 2, 100L, "inconclusive"), tuple(1, "stable", 1, 400L, "inconclusive"),
                tuple(2, "canary", 2, 300L, "fail"), tuple(2, "stable", 1, 0L, "fail"));
        assertThat(windows.get(0).errorRate()).isEqualTo(0.01);
        assertThat(windows.get(1).errorRate()).isEqualTo(0.01);
        assertThat(windows.get(0).p95Ms()).isEqualTo(LatencyBuckets.UPPER_MICROS.get(LatencyBuckets.indexOf(2_500)) / 1000.0);
        assertThat(windows.get(0).analysedAt()).isEqualTo(java.time.Instant.ofEpochMilli(1_765_000_000_000L));
        // the stable version served nothing in window 2: its p95 there is the baseline the analysis compared
        // against, not a measurement of the window, so the window keeps none
        assertThat(windows.get(3).p95Ms()).isNull();
        assertThat(windows.get(3).errorRate()).isNull();
        assertThat(windows.get(2).errorRate()).isEqualTo(0.2);
        assertThat(rollouts.find("r6").orElseThrow().analysisJson()).contains("\"window\": 2");
    }

    @Test
    void anAnalysisMadeBeforeWindowsWereNumberedStaysOnlyTheLatest() throws Exception {
        sessions.loaded("api-1", CANDIDATE);
        activities.begin(request("r7"));
        Analysis unnumbered = Analysis.evaluate(50, VersionCounts.empty(1), VersionCounts.empty(2), 200, 0.1, 2.0, -1);
        activities.setWeight("r7", "digits", 50, "running", unnumbered);
        RolloutStore rollouts = new RolloutStore(stores.db());
        assertThat(rollouts.windows("r7")).isEmpty();
        assertThat(rollouts.find("r7").orElseThrow().analysisJson()).contains("inconclusive");
    }

    private static List<Long> hist(int bucket, long count) {
        List<Long> counts = new java.util.ArrayList<>(Collections.nCopies(LatencyBuckets.count(), 0L));
        counts.set(bucket, count);
        return counts;
    }

    private static CanaryRequest request(String id) {
        return new CanaryRequest(id, "digits", CANDIDATE, List.of(50, 100), 1, 1, 0.1, 2.0, 1, null, "tester");
    }
}
