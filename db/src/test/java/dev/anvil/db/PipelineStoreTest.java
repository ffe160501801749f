package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class PipelineStoreTest {
    private final DataSource db = TestPostgres.migratedDatabase();
    private final PipelineStore pipelines = new PipelineStore(db);
    private final PipelineRunStore runs = new PipelineRunStore(db);

    @Test
    void aChangedSpecAddsAVersionAndTheSameTextDoesNot() {
        PipelineVersion v1 = pipelines.register("digits", "pipeline: digits\ntasks: {a: {operator: noop}}\n", "alice");
        PipelineVersion again = pipelines.register("digits", "pipeline: digits\ntasks: {a: {operator: noop}}\n", "bob");
        PipelineVersion v2 = pipelines.register("digits", "pipeline: digits\ntasks: {b: {operator: noop}}\n", "bob");

        assertThat(v1.version()).isEqualTo(1);
        assertThat(again).isEqualTo(v1);
        assertThat(v2.version()).isEqualTo(2);
        // the same text again keeps the version and its registrant: scheduled runs are requested by them
        assertThat(again.registeredBy()).isEqualTo("alice");
        assertThat(v2.registeredBy()).isEqualTo("bob");
        assertThat(pipelines.latest("digits")).contains(v2);
        assertThat(pipelines.versions("digits")).extracting(PipelineVersion::version).containsExactly(2, 1);
        assertThat(pipelines.find("digits", 1)).contains(v1);
        assertThat(pipelines.listLatest()).extracting(PipelineVersion::version).containsExactly(2);
    }

    @Test
    void aVersionWithoutARegistrantGetsOneWhenItsTextIsRegisteredAgain() throws Exception {
        pipelines.register("legacy", "pipeline: legacy\n", "alice");
        try (var c = db.getConnection(); var s = c.createStatement()) {
            s.execute("UPDATE pipeline_versions SET registered_by = NULL WHERE pipeline = 'legacy'");
        }
        assertThat(pipelines.latest("legacy")).get().extracting(PipelineVersion::registeredBy).isNull();

        PipelineVersion again = pipelines.register("legacy", "pipeline: legacy\n", "carol");

        assertThat(again.version()).isEqualTo(1);
        assertThat(again.registeredBy()).isEqualTo("carol");
    }

    @Test
    void pausingIsRecordedAndUnknownPipelinesSayNo() {
        pipelines.register("nightly", "pipeline: nightly\n", "alice");
        assertThat(pipelines.setPaused("nightly", true)).isTrue();
        assertThat(pipelines.latest("nightly")).get().extracting(PipelineVersion::paused).isEqualTo(true);
        assertThat(pipelines.setPaused("nope", true)).isFalse();
    }

    @Test
    void aBadNameIsRefusedByTheDatabase() {
        assertThatThrownBy(() -> pipelines.register("Bad Name!", "x", "alice"))
                .isInstanceOf(DataAccessException.class);
    }

    @Test
    void runsFilterByPipelineAndPage() {
        pipelines.register("digits", "pipeline: digits\n", "alice");
        for (int i = 0; i < 5; i++) {
            runs.create("digits-" + i, "digits", 1, "{}", "alice");
        }
        runs.create("other-1", "other", null, "{}", "bob");

        assertThat(runs.list("digits", null, 2, 0)).hasSize(2).allMatch(r -> r.pipeline().equals("digits"));
        assertThat(runs.list("digits", null, 10, 4)).hasSize(1);
        assertThat(runs.list(null, "queued", 10, 0)).hasSize(6);
        assertThat(runs.find("digits-0")).get().extracting(PipelineRun::pipelineVersion).isEqualTo(1);
    }
}
