package dev.anvil.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.anvil.db.Migrations;
import dev.anvil.db.ServingCountsStore;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.workflows.rollout.EndpointCounts;
import dev.anvil.workflows.rollout.LatencyBuckets;
import dev.anvil.workflows.rollout.VersionCounts;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * An API process serves, a worker process runs the rollout: the worker reads the traffic the API
 * served, through PostgreSQL, summed over every serving process.
 */
class ServingCountsPublisherTest {
    static ServingCountsStore store;

    @BeforeAll
    static void database() throws Exception {
        PGSimpleDataSource db = new PGSimpleDataSource();
        db.setURL(SharedLocalStack.freshDatabase("serving_counts"));
        db.setUser(SharedLocalStack.get().config().dbUser());
        db.setPassword(SharedLocalStack.get().config().dbPassword());
        Migrations.migrate(db);
        store = new ServingCountsStore(db);
    }

    @Test
    void aWorkerSeesWhatTheApiProcessesServed() {
        ServingMetrics api1 = new ServingMetrics(new SimpleMeterRegistry());
        ServingMetrics api2 = new ServingMetrics(new SimpleMeterRegistry());
        try (ServingCountsPublisher a = new ServingCountsPublisher(api1, store, "api-1", Duration.ZERO);
                ServingCountsPublisher b = new ServingCountsPublisher(api2, store, "api-2", Duration.ZERO)) {
            serve(api1, "fraud", 1, 3, 1, 700);
            serve(api1, "fraud", 2, 2, 0, 900);
            serve(api2, "fraud", 1, 4, 0, 700);
            serve(api2, "other", 1, 50, 0, 700);
            a.publish();
            b.publish();

            EndpointCounts seen = counts("fraud");
            assertThat(seen.of(1).requests()).isEqualTo(7);
            assertThat(seen.of(1).errors()).isEqualTo(1);
            assertThat(seen.of(2).requests()).isEqualTo(2);
            assertThat(seen.of(1).latencyBuckets().get(LatencyBuckets.indexOf(700))).isEqualTo(7);
            assertThat(seen.of(2).p95Micros()).isEqualTo(seen.of(2).p95Micros()).isPositive();
            assertThat(seen.versions()).extracting(VersionCounts::version).containsExactly(1, 2);

            // a window: what api-1 serves after the first read, once published
            serve(api1, "fraud", 2, 10, 3, 900);
            assertThat(counts("fraud").of(2).requests()).as("not published yet").isEqualTo(2);
            a.publish();
            VersionCounts window = counts("fraud").of(2).since(seen.of(2));
            assertThat(window.requests()).isEqualTo(10);
            assertThat(window.errors()).isEqualTo(3);
        }
    }

    @Test
    void countersArePublishedOnATimerAndOnClose() {
        ServingMetrics api = new ServingMetrics(new SimpleMeterRegistry());
        try (ServingCountsPublisher a = new ServingCountsPublisher(api, store, "api-timer", Duration.ofMillis(100))) {
            serve(api, "timed", 1, 5, 0, 300);
            await("the timer published the counts").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !counts("timed").versions().isEmpty());
            assertThat(counts("timed").of(1).requests()).as("published by the timer").isEqualTo(5);
            serve(api, "timed", 1, 5, 0, 300);
        }
        assertThat(counts("timed").of(1).requests()).as("the last counts, published on close").isEqualTo(10);
    }

    @Test
    void rowsWithOtherBucketBoundsAreLeftOutOfTheSums() {
        store.publish("old-version", java.util.List.of(new dev.anvil.db.ServingCount("mixed", 1, "old-version", 4, 0,
                java.util.List.of(4L), null)));
        ServingMetrics api = new ServingMetrics(new SimpleMeterRegistry());
        try (ServingCountsPublisher a = new ServingCountsPublisher(api, store, "api-mixed", Duration.ZERO)) {
            serve(api, "mixed", 1, 3, 0, 300);
            a.publish();
        }
        assertThat(counts("mixed").of(1).requests()).isEqualTo(3);
    }

    @Test
    void aRestartedProcessAddsToWhatItsEarlierSelfServedAndUnchangedCountersAreNotRewritten() {
        ServingMetrics before = new ServingMetrics(new SimpleMeterRegistry());
        try (ServingCountsPublisher old = new ServingCountsPublisher(before, store, "api-old", Duration.ZERO)) {
            serve(before, "restarted", 1, 5, 0, 300);
            old.publish();
        }
        VersionCounts seen = counts("restarted").of(1);
        var updated = oldRow().updatedAt();

        ServingMetrics after = new ServingMetrics(new SimpleMeterRegistry());
        try (ServingCountsPublisher fresh = new ServingCountsPublisher(after, store, "api-new", Duration.ZERO)) {
            serve(after, "restarted", 1, 2, 0, 300);
            fresh.publish();
            VersionCounts now = counts("restarted").of(1);
            assertThat(now.requests()).isEqualTo(7);
            assertThat(now.since(seen).requests()).isEqualTo(2);
        }
        assertThat(oldRow().updatedAt()).as("api-old's row untouched").isEqualTo(updated);
        assertThat(store.list("restarted")).hasSize(2);
    }

    private static dev.anvil.db.ServingCount oldRow() {
        return store.list("restarted").stream().filter(r -> r.processId().equals("api-old")).findFirst().orElseThrow();
    }

    /** What a rollout on any process reads: the store's sums, as the rollout's counts. */
    private static EndpointCounts counts(String endpoint) {
        return new EndpointCounts(endpoint, store.sum(endpoint, LatencyBuckets.count()).stream()
                .map(c -> new VersionCounts(c.version(), c.requests(), c.errors(), c.latencyBuckets())).toList());
    }

    private static void serve(ServingMetrics metrics, String endpoint, int version, int requests, int errors, long micros) {
        for (int i = 0; i < requests; i++) {
            metrics.record(endpoint, version, TimeUnit.MICROSECONDS.toNanos(micros), i < errors);
        }
    }
}
