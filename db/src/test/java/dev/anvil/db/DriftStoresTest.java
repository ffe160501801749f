package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class DriftStoresTest {
    private final DataSource db = TestPostgres.migratedDatabase();
    private final DriftWindowStore windows = new DriftWindowStore(db);
    private final DriftReportStore reports = new DriftReportStore(db);
    private final TriggerEventStore events = new TriggerEventStore(db);
    private final AuditLogStore audit = new AuditLogStore(db);
    private final String endpoint = "ep-" + UUID.randomUUID().toString().substring(0, 8);

    @Test
    void eachProcessReplacesItsOwnWindow() {
        windows.publish("api-1", List.of(window("api-1", 3, "[[1.0, 2.0]]", List.of(0L, 3L))));
        windows.publish("api-2", List.of(window("api-2", 1, "[[5.0, 6.0]]", List.of(1L))));
        windows.publish("api-1", List.of(window("api-1", 7, "[[1.0, 2.0], [3.0, 4.0]]", List.of(2L, 5L))));
        List<DriftWindow> rows = windows.list(endpoint, 1);
        assertThat(rows).extracting(DriftWindow::processId, DriftWindow::seen)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("api-1", 7L),
                        org.assertj.core.groups.Tuple.tuple("api-2", 1L));
        assertThat(rows.get(0).sampleJson()).isEqualTo("[[1.0, 2.0], [3.0, 4.0]]");
        assertThat(rows.get(0).classCounts()).containsExactly(2L, 5L);
        assertThat(windows.list(endpoint, 2)).isEmpty();
        assertThatThrownBy(() -> windows.publish("api-1", List.of(window("api-2", 1, "[]", List.of()))))
                .hasMessageContaining("a window of process 'api-2' was handed to the publisher of process 'api-1'");
        assertThatThrownBy(() -> windows.publish("api-1", List.of(window("api-1", 1, "not json", List.of()))))
                .isInstanceOf(DataAccessException.class);
        assertThat(windows.list(endpoint, 1).get(0).seen()).isEqualTo(7L);
    }

    @Test
    void aReportIsRecordedAndAuditedOncePerRunAndTask() {
        String run = "run-" + UUID.randomUUID();
        DriftReportStore.Recorded first = reports.record(endpoint, 1, "digits", 2, true, List.of("x[3]", "x[7]"),
                "{\"drifted\": true}", run, "drift", "alice");
        DriftReportStore.Recorded again = reports.record(endpoint, 1, "digits", 2, true, List.of("x[3]"),
                "{\"drifted\": true}", run, "drift", "alice");
        assertThat(first.isNew()).isTrue();
        assertThat(again.isNew()).isFalse();
        assertThat(again.report().id()).isEqualTo(first.report().id());
        assertThat(again.report().movedFeatures()).containsExactly("x[3]", "x[7]");
        assertThat(reports.list(endpoint, 10)).hasSize(1);
        assertThat(audit.listBySubject("endpoint:" + endpoint, 10)).extracting(AuditEntry::action)
                .containsExactly(DriftReportStore.DETECTED);
        assertThatThrownBy(() -> reports.record(endpoint, 1, "digits", 2, false, List.of(), "{oops", run + "x",
                "drift", "alice")).isInstanceOf(DataAccessException.class);
        assertThat(reports.list(endpoint, 10)).hasSize(1);
        assertThat(audit.listBySubject("endpoint:" + endpoint, 10)).hasSize(1);
    }

    @Test
    void anEventClaimsOneRunPerPipelineAndStaysPendingUntilStarted() {
        String pipeline = "p-" + UUID.randomUUID().toString().substring(0, 8);
        TriggerEventStore.Claimed first = events.claim(pipeline, "dataset:digits@3", "dataset", "digits",
                "{\"version\": 3}", pipeline + "-on-dataset-1", "bob");
        TriggerEventStore.Claimed twice = events.claim(pipeline, "dataset:digits@3", "dataset", "digits",
                "{\"version\": 3}", pipeline + "-on-dataset-1", "bob");
        assertThat(first.isNew()).isTrue();
        assertThat(twice.isNew()).isFalse();
        assertThat(events.pending(1000)).extracting(TriggerEvent::runId).contains(pipeline + "-on-dataset-1");
        events.markStarted(pipeline + "-on-dataset-1");
        assertThat(events.pending(1000)).extracting(TriggerEvent::runId).doesNotContain(pipeline + "-on-dataset-1");
        assertThat(events.findByRun(pipeline + "-on-dataset-1")).get()
                .satisfies(e -> assertThat(e.kind()).isEqualTo("dataset"))
                .satisfies(e -> assertThat(e.startedAt()).isNotNull());
        assertThat(audit.listBySubject("pipeline:" + pipeline, 10)).extracting(AuditEntry::action)
                .containsExactly(TriggerEventStore.ACTION);
        assertThatThrownBy(() -> events.claim(pipeline, "x", "cron", "digits", null, pipeline + "-other", "bob"))
                .isInstanceOf(DataAccessException.class);
    }

    private DriftWindow window(String process, long seen, String sample, List<Long> classes) {
        return new DriftWindow(endpoint, 1, process, seen, "x", "[\"x[0]\", \"x[1]\"]", sample, "[[1], [1]]", classes,
                null);
    }
}
