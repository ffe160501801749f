package dev.anvil.db;

import static dev.anvil.db.TestData.artifact;
import static dev.anvil.db.TestData.sha256Of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class RolloutStoreTest {

    private final DataSource db = TestPostgres.migratedDatabase();
    private final RolloutStore rollouts = new RolloutStore(db);

    RolloutStoreTest() {
        ArtifactStore artifacts = new ArtifactStore(db);
        ModelRegistryStore registry = new ModelRegistryStore(db);
        registry.createModel("resnet50", null);
        for (String name : new String[] {"v1", "v2"}) {
            artifact(artifacts, name, null);
            registry.registerVersion("resnet50", sha256Of(name), null, null);
        }
    }

    @Test
    void createsStepsAndPromotes() {
        Rollout created = rollouts.create("ro-1", "classify", "resnet50", 1, 2);
        assertThat(created.state()).isEqualTo("running");
        assertThat(created.weight()).isZero();
        assertThat(rollouts.create("ro-1", "classify", "resnet50", 1, 2)).isEqualTo(created);

        rollouts.update("ro-1", "running", 10, "{\"p99_ms\": 41}");
        assertThat(rollouts.findActive("classify")).map(Rollout::weight).contains(10);

        Rollout promoted = rollouts.update("ro-1", "promoted", 100, null);
        assertThat(promoted.finishedAt()).isNotNull();
        assertThat(promoted.analysisJson()).isEqualTo("{\"p99_ms\": 41}");
        assertThat(rollouts.findActive("classify")).isEmpty();
        assertThat(rollouts.find("ro-1")).contains(promoted);
    }

    @Test
    void mistakesAreNamed() {
        rollouts.create("ro-1", "classify", "resnet50", 1, 2);

        assertThatThrownBy(() -> rollouts.create("ro-2", "classify", "resnet50", 1, 2))
                .isInstanceOf(DataAccessException.class)
                .hasMessage("rollouts create: endpoint 'classify' already has a running or paused rollout, 'ro-1';"
                        + " finish or abort it before starting 'ro-2'");
        assertThatThrownBy(() -> rollouts.create("ro-3", "other", "resnet50", 1, 9))
                .hasMessage("rollouts create: model 'resnet50' has no version 9 to roll out");
        assertThatThrownBy(() -> rollouts.update("ro-1", "running", 150, null))
                .hasMessage("rollouts update: weight 150 is outside 0..100");
        rollouts.update("ro-1", "aborted", 0, null);
        assertThatThrownBy(() -> rollouts.update("ro-1", "running", 5, null))
                .hasMessage("rollouts update: rollout 'ro-1' is already aborted and cannot become running;"
                        + " finished rollouts are final");
    }

    @Test
    void listsNewestFirstByEndpointAndStateAPageAtATime() {
        rollouts.create("ro-a", "classify", "resnet50", 1, 2);
        rollouts.update("ro-a", "aborted", 0, null, "abort by alice");
        rollouts.create("ro-b", "classify", "resnet50", 1, 2);
        rollouts.create("ro-c", "detect", "resnet50", 1, 2);

        assertThat(rollouts.list(null, null, 10, 0)).extracting(Rollout::id).containsExactly("ro-c", "ro-b", "ro-a");
        assertThat(rollouts.list("classify", null, 10, 0)).extracting(Rollout::id).containsExactly("ro-b", "ro-a");
        assertThat(rollouts.list("classify", "running", 10, 0)).extracting(Rollout::id).containsExactly("ro-b");
        assertThat(rollouts.list(null, "aborted", 10, 0)).extracting(Rollout::id).containsExactly("ro-a");
        assertThat(rollouts.list(null, null, 2, 2)).extracting(Rollout::id).containsExactly("ro-a");
        assertThat(rollouts.list("no-such-endpoint", null, 10, 0)).isEmpty();
        // a hostile filter is a value, never SQL
        assertThat(rollouts.list("x' OR '1'='1", null, 10, 0)).isEmpty();

        assertThatThrownBy(() -> rollouts.list(null, "exploded", 10, 0))
                .hasMessageContaining("state 'exploded' is not valid, expected one of [running, paused");
        assertThatThrownBy(() -> rollouts.list(null, null, 0, 0)).hasMessageContaining("limit 0 is outside 1..1000");
        assertThatThrownBy(() -> rollouts.list(null, null, 10, -1)).hasMessageContaining("offset -1 must not be negative");
    }

    @Test
    void keepsEveryWindowOnceInOrder() {
        rollouts.create("ro-1", "classify", "resnet50", 1, 2);
        Instant first = Instant.parse("2026-12-07T01:00:00Z");
        List<RolloutWindow> one = List.of(
                RolloutWindow.measured("ro-1", 1, RolloutWindow.CANARY, 2, 5, 40, 0, 3.1, "inconclusive", "too few", first),
                RolloutWindow.measured("ro-1", 1, RolloutWindow.STABLE, 1, 5, 800, 8, 2.5, "inconclusive", "too few", first));
        rollouts.recordWindow(one);
        rollouts.recordWindow(one); // a retried activity hands the same window on again
        Instant second = first.plusSeconds(600);
        rollouts.recordWindow(List.of(
                RolloutWindow.measured("ro-1", 2, RolloutWindow.STABLE, 1, 5, 0, 0, 0, "pass", "ok", second),
                RolloutWindow.measured("ro-1", 2, RolloutWindow.CANARY, 2, 5, 300, 3, 3.0, "pass", "ok", second)));

        List<RolloutWindow> windows = rollouts.windows("ro-1");
        assertThat(windows).extracting(RolloutWindow::window, RolloutWindow::role).containsExactly(
                org.assertj.core.groups.Tuple.tuple(1, "canary"), org.assertj.core.groups.Tuple.tuple(1, "stable"),
                org.assertj.core.groups.Tuple.tuple(2, "canary"), org.assertj.core.groups.Tuple.tuple(2, "stable"));
        assertThat(windows.get(0)).isEqualTo(one.get(0));
        assertThat(windows.get(1).errorRate()).isEqualTo(0.01);
        assertThat(windows.get(2).errorRate()).isEqualTo(0.01);
        assertThat(windows.get(2).analysedAt()).isEqualTo(second);
        // the stable version served nothing in window 2: no error rate and no p95, not zeros
        assertThat(windows.get(3).requests()).isZero();
        assertThat(windows.get(3).errorRate()).isNull();
        assertThat(windows.get(3).p95Ms()).isNull();
        assertThat(rollouts.windows("no-such-rollout")).isEmpty();
    }

    @Test
    void refusesWindowsThatCannotBe() {
        rollouts.create("ro-1", "classify", "resnet50", 1, 2);
        Instant at = Instant.parse("2026-12-07T01:00:00Z");
        assertThatThrownBy(() -> rollouts.recordWindow(List.of(
                RolloutWindow.measured("ro-9", 1, RolloutWindow.CANARY, 2, 5, 1, 0, 1, "pass", "ok", at))))
                .hasMessage("rollout_windows record: no rollout with id 'ro-9' to record window 1 of");
        assertThatThrownBy(() -> rollouts.recordWindow(List.of(
                RolloutWindow.measured("ro-1", 0, RolloutWindow.CANARY, 2, 5, 1, 0, 1, "pass", "ok", at))))
                .hasMessage("rollout_windows record: window 0 must be at least 1");
        assertThatThrownBy(() -> rollouts.recordWindow(List.of(
                RolloutWindow.measured("ro-1", 1, RolloutWindow.CANARY, 2, 5, 1, 2, 1, "pass", "ok", at))))
                .hasMessage("rollout_windows record: window 1 of rollout 'ro-1' counts 2 errors in 1 requests");
        assertThatThrownBy(() -> rollouts.recordWindow(List.of(
                RolloutWindow.measured("ro-1", 1, "shadow", 2, 5, 1, 0, 1, "pass", "ok", at))))
                .hasMessageContaining("role 'shadow' is not valid");
        assertThat(rollouts.windows("ro-1")).isEmpty();
    }
}
