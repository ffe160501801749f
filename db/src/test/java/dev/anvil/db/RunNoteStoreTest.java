package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class RunNoteStoreTest {
    private final DataSource db = TestPostgres.migratedDatabase();
    private final PipelineRunStore runs = new PipelineRunStore(db);
    private final RunNoteStore notes = new RunNoteStore(db);

    private String run() {
        String id = "run-" + UUID.randomUUID();
        runs.create(id, "p", "{}", "alice");
        return id;
    }

    @Test
    void aTriggersLogicalDateAndNoteAreKeptOnceAndTheNoteChangesAlone() {
        String id = run();
        Instant tick = Instant.parse("2026-01-01T00:00:00Z");
        notes.recordTrigger(id, tick, "first");
        notes.recordTrigger(id, Instant.parse("2027-01-01T00:00:00Z"), "retried call");
        assertThat(notes.find(id)).contains(new RunNoteStore.RunNote(id, tick, "first"));

        notes.setNote(id, "second");
        assertThat(notes.find(id)).contains(new RunNoteStore.RunNote(id, tick, "second"));
        notes.setNote(id, null);
        assertThat(notes.find(id)).contains(new RunNoteStore.RunNote(id, tick, null));
        assertThat(notes.all()).containsKey(id);
    }

    @Test
    void aNoteNeedsARunAndAtMostAThousandCharacters() {
        String id = run();
        notes.setNote(id, "x".repeat(1000));
        assertThat(notes.find(id).orElseThrow().logicalDate()).isNull();
        assertThatThrownBy(() -> notes.setNote(id, "x".repeat(1001))).isInstanceOf(DataAccessException.class);
        assertThatThrownBy(() -> notes.setNote("no-such-run", "x")).isInstanceOf(DataAccessException.class);
        assertThat(notes.find("no-such-run")).isEmpty();
    }
}
