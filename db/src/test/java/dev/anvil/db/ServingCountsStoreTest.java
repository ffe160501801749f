package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class ServingCountsStoreTest {
    private final DataSource db = TestPostgres.migratedDatabase();
    private final ServingCountsStore store = new ServingCountsStore(db);

    @Test
    void eachProcessKeepsItsOwnRowAndAPublishReplacesItsOwnCounters() {
        store.publish("api-1", List.of(count("digits", 1, "api-1", 10, 1, 4, 6), count("digits", 2, "api-1", 3, 0, 3, 0)));
        store.publish("api-2", List.of(count("digits", 1, "api-2", 5, 0, 5, 0)));
        store.publish("api-1", List.of(count("digits", 1, "api-1", 12, 1, 5, 7)));
        store.publish("api-1", List.of(count("other", 1, "api-1", 99, 0, 99, 0)));

        List<ServingCount> rows = store.list("digits");
        assertThat(rows).extracting(ServingCount::version, ServingCount::processId, ServingCount::requests)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1, "api-1", 12L),
                        org.assertj.core.groups.Tuple.tuple(1, "api-2", 5L),
                        org.assertj.core.groups.Tuple.tuple(2, "api-1", 3L));
        assertThat(rows.get(0).latencyBuckets()).containsExactly(5L, 7L);
        assertThat(rows.get(0).errors()).isEqualTo(1);
        assertThat(rows.get(0).updatedAt()).isNotNull();
        assertThat(store.list("nobody")).isEmpty();
    }

    @Test
    void impossibleCountersAndAnotherProcessesRowsAreRefusedAndNothingIsWritten() {
        store.publish("api-1", List.of(count("digits", 1, "api-1", 10, 1, 10, 0)));
        assertThatThrownBy(() -> store.publish("api-1", List.of(count("digits", 1, "api-1", 20, 0, 20, 0),
                count("digits", 2, "api-1", 3, 4, 3, 0))))
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("0 <= errors <= requests");
        assertThat(store.list("digits")).singleElement().extracting(ServingCount::requests).isEqualTo(10L);
        assertThatThrownBy(() -> store.publish("api-1", List.of(count("digits", 1, "api-2", 1, 0, 1, 0))))
                .hasMessageContaining("a count of process 'api-2' was handed to the publisher of process 'api-1'");
        assertThatThrownBy(() -> store.publish(" ", List.of())).hasMessageContaining("processId is blank");
    }

    private static ServingCount count(String endpoint, int version, String process, long requests, long errors,
            long fast, long slow) {
        return new ServingCount(endpoint, version, process, requests, errors, List.of(fast, slow), null);
    }
}
