package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class ServingSessionsStoreTest {
    private static final String A = "a".repeat(64);
    private static final String B = "b".repeat(64);
    private static final Duration FRESH = Duration.ofMinutes(1);
    private static final Duration NOTIFY_WAIT = Duration.ofSeconds(10);
    private static final Duration POLL = Duration.ofMillis(20);

    private final DataSource db = TestPostgres.migratedDatabase();
    private final ServingSessionsStore store = new ServingSessionsStore(db);

    @Test
    void eachProcessReportsItsOwnLoadsAndFailures() {
        store.loaded("api-1", A);
        store.failed("api-2", A, "cannot be loaded by ONNX Runtime: bad graph");
        store.loaded("api-2", B);

        assertThat(store.reports(A, FRESH)).extracting(ServingSession::processId, ServingSession::state)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("api-1", "loaded"),
                        org.assertj.core.groups.Tuple.tuple("api-2", "failed"));
        assertThat(store.reports(A, FRESH)).filteredOn(r -> !r.loaded()).singleElement()
                .extracting(ServingSession::error).asString().contains("bad graph");

        store.loaded("api-2", A); // a later load replaces the failure
        assertThat(store.reports(A, FRESH)).allMatch(ServingSession::loaded);
    }

    @Test
    void retainForgetsWhatAProcessUnloadedAndAStoppedProcessLeavesNoReports() {
        store.loaded("api-1", A);
        store.loaded("api-1", B);
        store.loaded("api-2", A);

        store.retain("api-1", Set.of(B));
        assertThat(store.reports(A, FRESH)).extracting(ServingSession::processId).containsExactly("api-2");
        assertThat(store.reports(B, FRESH)).extracting(ServingSession::processId).containsExactly("api-1");

        store.retain("api-2", Set.of()); // a process shutting down holds nothing
        assertThat(store.reports(A, FRESH)).isEmpty();
        store.retain("api-1", Set.of());
        assertThat(store.reports(B, FRESH)).isEmpty();
    }

    @Test
    void reportsOlderThanTheFreshnessWindowAreLeftOut() throws Exception {
        store.loaded("gone", A);
        Thread.sleep(50);
        assertThat(store.reports(A, Duration.ofMillis(10))).isEmpty();
        assertThat(store.reports(A, FRESH)).hasSize(1);
    }

    @Test
    void badInputIsRefusedAndNothingIsWritten() {
        assertThatThrownBy(() -> store.loaded(" ", A)).isInstanceOf(DataAccessException.class)
                .hasMessageContaining("processId is blank");
        assertThatThrownBy(() -> store.loaded("api-1", "not-a-sha")).isInstanceOf(DataAccessException.class)
                .hasMessageContaining("64 lowercase hex");
        assertThat(store.reports(A, FRESH)).isEmpty();
    }

    @Test
    void everyEndpointChangeIsNotified() {
        AtomicInteger changes = new AtomicInteger();
        EndpointStore endpoints = new EndpointStore(db);
        ModelRegistryStore registry = new ModelRegistryStore(db);
        registry.createModel("digits", null);
        registry.registerVersion("digits", TestData.artifact(new ArtifactStore(db), "digits-v1", null).sha256(), null,
                null);
        try (EndpointChangeListener listener = new EndpointChangeListener(db, changes::incrementAndGet,
                Duration.ofMillis(100)).start()) {
            await("LISTEN in place").atMost(NOTIFY_WAIT).pollInterval(POLL).until(listener::listening);
            int before = changes.get();
            endpoints.put("digits", "digits", 1, null, TrafficChange.byHand("admin", null));
            await("the put was notified").atMost(NOTIFY_WAIT).pollInterval(POLL).until(() -> changes.get() > before);
        }
    }
}
