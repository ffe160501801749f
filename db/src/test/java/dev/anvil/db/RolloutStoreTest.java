package dev.anvil.db;

import static dev.anvil.db.TestData.artifact;
import static dev.anvil.db.TestData.sha256Of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
}
