package dev.anvil.db;

import static dev.anvil.db.TestData.artifact;
import static dev.anvil.db.TestData.sha256Of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class EndpointStoreTest {

    private static final TrafficChange ADMIN = TrafficChange.byHand("admin", null);

    private final DataSource db = TestPostgres.migratedDatabase();
    private final EndpointStore endpoints = new EndpointStore(db);

    EndpointStoreTest() {
        ArtifactStore artifacts = new ArtifactStore(db);
        ModelRegistryStore registry = new ModelRegistryStore(db);
        registry.createModel("digits", null);
        for (String name : new String[] {"v1", "v2", "v3"}) {
            artifact(artifacts, name, null);
            registry.registerVersion("digits", sha256Of(name), null, null);
        }
    }

    @Test
    void servesAStableVersionThenACanaryWhichIsPromoted() {
        Endpoint created = endpoints.put("digits", "digits", 1, null, ADMIN);
        assertThat(created.hasCanary()).isFalse();
        assertThat(created.canaryWeight()).isZero();

        endpoints.setCanary("digits", 2, 5, ADMIN);
        assertThat(endpoints.setWeight("digits", 25, ADMIN).canaryWeight()).isEqualTo(25);
        // re-pointing stable at the same model keeps the canary
        assertThat(endpoints.put("digits", "digits", 3, null, ADMIN).canaryVersion()).isEqualTo(2);
        endpoints.put("digits", "digits", 1, null, ADMIN);

        Endpoint promoted = endpoints.promoteCanary("digits", 2, ADMIN);
        assertThat(promoted.stableVersion()).isEqualTo(2);
        assertThat(promoted.canaryVersion()).isNull();
        assertThat(promoted.canaryWeight()).isZero();
        assertThat(endpoints.promoteCanary("digits", 2, ADMIN)).isEqualTo(promoted);
        assertThat(endpoints.list()).extracting(Endpoint::name).containsExactly("digits");
    }

    @Test
    void aCanaryIsRemovedWithItsWeight() {
        endpoints.put("digits", "digits", 1, null, ADMIN);
        endpoints.setCanary("digits", 2, 50, ADMIN);
        Endpoint removed = endpoints.removeCanary("digits", ADMIN);
        assertThat(removed.canaryVersion()).isNull();
        assertThat(removed.canaryWeight()).isZero();
        // pointing stable at the canary's version also removes the canary
        endpoints.setCanary("digits", 2, 50, ADMIN);
        assertThat(endpoints.put("digits", "digits", 2, null, ADMIN).canaryVersion()).isNull();
    }

    @Test
    void aChangeThatBreaksGlassIsAuditedBesideItWithTheVersionItPutOnTraffic() {
        TrafficChange glass = TrafficChange.breakingGlass("admin", "first deployment, no pipeline yet");
        endpoints.put("digits", "digits", 1, null, glass);
        endpoints.setCanary("digits", 2, 0, glass);
        endpoints.setWeight("digits", 30, glass);
        endpoints.setWeight("digits", 30, glass); // changes nothing, so records nothing
        endpoints.removeCanary("digits", ADMIN);

        AuditLogStore audit = new AuditLogStore(db);
        assertThat(audit.listBySubject("endpoint:digits", 100)).extracting(AuditEntry::action)
                .containsOnlyOnce("endpoint.created", "endpoint.canary.set", "endpoint.canary.weight_changed",
                        "endpoint.canary.removed")
                .filteredOn("endpoint.break_glass"::equals).hasSize(3);
        assertThat(audit.listBySubject("endpoint:digits", 100)).filteredOn(e -> e.action().equals("endpoint.break_glass"))
                .allSatisfy(e -> assertThat(e.actor()).isEqualTo("admin"))
                .extracting(AuditEntry::detailsJson).anySatisfy(d -> assertThat(d).contains(
                        "\"change\": \"endpoint.created\"", "\"version\": 1", "\"artifact\": \"" + sha256Of("v1") + "\"",
                        "\"reason\": \"first deployment, no pipeline yet\""))
                .anySatisfy(d -> assertThat(d).contains("\"change\": \"endpoint.canary.weight_changed\"",
                        "\"version\": 2", "\"artifact\": \"" + sha256Of("v2") + "\"", "\"weight\": 30"));
    }

    @Test
    void breakingGlassIsAChangeByHandWithAReason() {
        assertThatThrownBy(() -> TrafficChange.breakingGlass("admin", " "))
                .hasMessage("breaking glass is a change by hand with a reason");
        assertThatThrownBy(() -> new TrafficChange("anvil", "why", "rollout-1", true))
                .hasMessage("breaking glass is a change by hand with a reason");
    }

    @Test
    void mistakesAreNamed() {
        assertThatThrownBy(() -> endpoints.put("Digits!", "digits", 1, null, ADMIN))
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("endpoint name 'Digits!' must be 1-63 lower-case letters");
        assertThatThrownBy(() -> endpoints.put("digits", "digits", 9, null, ADMIN))
                .hasMessage("endpoints put: model 'digits' has no version 9; register it before serving it"
                        + " from endpoint 'digits'");
        assertThatThrownBy(() -> endpoints.setWeight("nope", 5, ADMIN))
                .hasMessage("endpoints set weight: no endpoint named 'nope'");
        endpoints.put("digits", "digits", 1, null, ADMIN);
        assertThatThrownBy(() -> endpoints.setWeight("digits", 5, ADMIN))
                .hasMessageContaining("endpoint 'digits' has no canary");
        assertThatThrownBy(() -> endpoints.setCanary("digits", 1, 5, ADMIN))
                .hasMessageContaining("version 1 is already the stable version");
        assertThatThrownBy(() -> endpoints.setCanary("digits", 7, 5, ADMIN))
                .hasMessageContaining("model 'digits' has no version 7");
        assertThatThrownBy(() -> endpoints.setCanary("digits", 2, 101, ADMIN))
                .hasMessage("endpoints set canary: weight 101 is outside 0..100");
        assertThatThrownBy(() -> endpoints.promoteCanary("digits", 2, ADMIN))
                .hasMessageContaining("has canary null, not version 2");
        endpoints.setCanary("digits", 3, 5, ADMIN);
        assertThatThrownBy(() -> endpoints.setWeight("digits", 2, 50, ADMIN))
                .hasMessageContaining("has canary 3, not version 2 (it changed meanwhile)");
    }
}
