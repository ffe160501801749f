package dev.anvil.serving;

import static org.assertj.core.api.Assertions.assertThat;

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
class SharedServingCountsTest {
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
        ServingMetrics worker = new ServingMetrics(new SimpleMeterRegistry());
        try (SharedServingCounts a = new SharedServingCounts(api1, store, "api-1", Duration.ZERO);
                SharedServingCounts b = new SharedServingCounts(api2, store, "api-2", Duration.ZERO);
                SharedServingCounts w = new SharedServingCounts(worker, store, "worker-1", Duration.ZERO)) {
            serve(api1, "fraud", 1, 3, 1, 700);
            serve(api1, "fraud", 2, 2, 0, 900);
            serve(api2, "fraud", 1, 4, 0, 700);
            serve(api2, "other", 1, 50, 0, 700);
            a.publish();
            b.publish();

            EndpointCounts seen = w.counts("fraud");
            assertThat(seen.of(1).requests()).isEqualTo(7);
            assertThat(seen.of(1).errors()).isEqualTo(1);
            assertThat(seen.of(2).requests()).isEqualTo(2);
            assertThat(seen.of(1).latencyBuckets().get(LatencyBuckets.indexOf(700))).isEqualTo(7);
            assertThat(seen.of(2).p95Micros()).isEqualTo(seen.of(2).p95Micros()).isPositive();
            assertThat(seen.versions()).extracting(VersionCounts::version).containsExactly(1, 2);

            // a window: what api-1 serves after the first read, once published
            serve(api1, "fraud", 2, 10, 3, 900);
            assertThat(w.counts("fraud").of(2).requests()).as("not published yet").isEqualTo(2);
            a.publish();
            VersionCounts window = w.counts("fraud").of(2).since(seen.of(2));
            assertThat(window.requests()).isEqualTo(10);
            assertThat(window.errors()).isEqualTo(3);
        }
    }

    @Test
    void countersArePublishedOnATimerAndTheirOwnProcessSeesThemAtOnce() throws Exception {
        ServingMetrics api = new ServingMetrics(new SimpleMeterRegistry());
        ServingMetrics worker = new ServingMetrics(new SimpleMeterRegistry());
        try (SharedServingCounts a = new SharedServingCounts(api, store, "api-timer", Duration.ofMillis(100));
                SharedServingCounts w = new SharedServingCounts(worker, store, "worker-timer", Duration.ZERO)) {
            serve(api, "timed", 1, 5, 0, 300);
            assertThat(a.counts("timed").of(1).requests()).as("its own counts, published first").isEqualTo(5);
            serve(api, "timed", 1, 5, 0, 300);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (w.counts("timed").of(1).requests() < 10 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(w.counts("timed").of(1).requests()).isEqualTo(10);
        }
    }

    @Test
    void aRestartedProcessAddsToWhatItsEarlierSelfServedAndUnchangedCountersAreNotRewritten() {
        ServingMetrics before = new ServingMetrics(new SimpleMeterRegistry());
        try (SharedServingCounts old = new SharedServingCounts(before, store, "api-old", Duration.ZERO)) {
            serve(before, "restarted", 1, 5, 0, 300);
            old.publish();
        }
        VersionCounts seen = new SharedServingCounts(new ServingMetrics(new SimpleMeterRegistry()), store, "reader",
                Duration.ZERO).counts("restarted").of(1);
        var updated = oldRow().updatedAt();

        ServingMetrics after = new ServingMetrics(new SimpleMeterRegistry());
        try (SharedServingCounts fresh = new SharedServingCounts(after, store, "api-new", Duration.ZERO)) {
            serve(after, "restarted", 1, 2, 0, 300);
            VersionCounts now = fresh.counts("restarted").of(1);
            assertThat(now.requests()).isEqualTo(7);
            assertThat(now.since(seen).requests()).isEqualTo(2);
            fresh.publish();
        }
        assertThat(oldRow().updatedAt()).as("api-old's row untouched").isEqualTo(updated);
        assertThat(store.list("restarted")).hasSize(2);
    }

    private static dev.anvil.db.ServingCount oldRow() {
        return store.list("restarted").stream().filter(r -> r.processId().equals("api-old")).findFirst().orElseThrow();
    }

    private static void serve(ServingMetrics metrics, String endpoint, int version, int requests, int errors, long micros) {
        for (int i = 0; i < requests; i++) {
            metrics.record(endpoint, version, TimeUnit.MICROSECONDS.toNanos(micros), i < errors);
        }
    }
}
