package dev.anvil.db;

import static dev.anvil.db.TestData.artifact;
import static dev.anvil.db.TestData.sha256Of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.db.WebhookStore.Delivery;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** Registry events recorded with the changes they report, and the webhook deliveries they make. */
class WebhookStoreTest {

    private final DataSource db = TestPostgres.migratedDatabase();
    private final WebhookStore webhooks = new WebhookStore(db);
    private final ModelRegistryStore registry = new ModelRegistryStore(db);
    private final ArtifactStore artifacts = new ArtifactStore(db);

    private Map<String, Delivery> byType(String webhookId) {
        Map<String, Delivery> out = new java.util.LinkedHashMap<>();
        for (Delivery d : webhooks.deliveries(webhookId, 100)) {
            out.merge(d.eventType(), d, (a, b) -> a);
        }
        return out;
    }

    @Test
    void everyStoreChangePublishesItsEventToTheWebhooksSubscribedToIt() {
        WebhookStore.Webhook all = webhooks.create("wh_00000000000000a1", "https://hooks.example/all",
                RegistryEvents.TYPES, "s3cret", "everything", "alice");
        WebhookStore.Webhook aliases = webhooks.create("wh_00000000000000a2", "http://hooks.example/aliases",
                List.of(RegistryEvents.MODEL_ALIAS_MOVED), "s3cret", null, "alice");

        registry.createModel("resnet50", null);
        artifact(artifacts, "v1", null);
        artifact(artifacts, "v2", null);
        registry.registerVersion("resnet50", sha256Of("v1"), null, null);
        registry.registerVersion("resnet50", sha256Of("v1"), null, null); // the same bytes: no new version, no event
        registry.registerVersion("resnet50", sha256Of("v2"), null, null);
        registry.setAlias("resnet50", "production", 1);
        registry.setAlias("resnet50", "production", 1); // where it points already: no move
        registry.setAlias("resnet50", "production", 2);

        new PipelineRunStore(db).create("run-1", "p", null, "alice");
        ApprovalStore approvals = new ApprovalStore(db);
        approvals.create("ap-1", "run-1", "approve", 1, "alice");
        approvals.create("ap-1", "run-1", "approve", 1, "alice"); // a retried request
        approvals.recordDecision("ap-1", "bob", "approve", "fine");
        approvals.recordDecision("ap-1", "bob", "approve", "fine"); // a retried decision

        RolloutStore rollouts = new RolloutStore(db);
        rollouts.create("ro-1", "classify", "resnet50", 1, 2);
        rollouts.update("ro-1", "running", 50, null);
        rollouts.update("ro-1", "promoted", 100, null, "healthy");
        rollouts.update("ro-1", "promoted", 100, null, "healthy"); // a retried step
        rollouts.create("ro-2", "classify", "resnet50", 2, 1);
        rollouts.update("ro-2", "rolled_back", 0, null, "error rate 12% over 5%");

        long drift = new RegistryEvents(db).driftDetected("classify", "resnet50", 2,
                "{\"feature\": \"age\", \"psi\": 0.31}");

        List<Delivery> toAll = webhooks.deliveries(all.id(), 100);
        assertThat(toAll).extracting(Delivery::eventType).containsExactly(RegistryEvents.DRIFT_DETECTED,
                RegistryEvents.ROLLOUT_ROLLED_BACK, RegistryEvents.ROLLOUT_PROMOTED, RegistryEvents.APPROVAL_DECIDED,
                RegistryEvents.APPROVAL_REQUESTED, RegistryEvents.MODEL_ALIAS_MOVED, RegistryEvents.MODEL_ALIAS_MOVED,
                RegistryEvents.MODEL_VERSION_CREATED, RegistryEvents.MODEL_VERSION_CREATED);
        assertThat(toAll).allMatch(d -> d.state().equals("pending"));
        assertThat(webhooks.deliveries(aliases.id(), 100)).extracting(Delivery::payloadJson).containsExactly(
                "{\"alias\": \"production\", \"model\": \"resnet50\", \"version\": 2, \"previousVersion\": 1}",
                "{\"alias\": \"production\", \"model\": \"resnet50\", \"version\": 1, \"previousVersion\": null}");
        Map<String, Delivery> first = byType(all.id());
        assertThat(first.get(RegistryEvents.DRIFT_DETECTED).eventId()).isEqualTo(drift);
        assertThat(first.get(RegistryEvents.DRIFT_DETECTED).payloadJson()).contains("\"psi\": 0.31");
        assertThat(first.get(RegistryEvents.APPROVAL_DECIDED).payloadJson()).contains("\"state\": \"approved\"")
                .contains("\"reviewer\": \"bob\"");
        assertThat(first.get(RegistryEvents.ROLLOUT_ROLLED_BACK).subject()).isEqualTo("endpoint:classify");
        assertThat(first.get(RegistryEvents.ROLLOUT_ROLLED_BACK).payloadJson()).contains("error rate 12% over 5%");
    }

    @Test
    void aChangeThatRollsBackPublishesNothing() {
        webhooks.create("wh_00000000000000b1", "https://hooks.example/", RegistryEvents.TYPES, "s", null, "alice");
        registry.createModel("resnet50", null);
        // no such version: the alias is refused, and so is its event
        assertThatThrownBy(() -> registry.setAlias("resnet50", "production", 7)).isInstanceOf(DataAccessException.class);
        assertThatThrownBy(() -> new RegistryEvents(db).driftDetected("classify", "resnet50", 1, "{not json"))
                .isInstanceOf(DataAccessException.class).hasMessageContaining("not valid JSON");
        assertThat(webhooks.deliveries("wh_00000000000000b1", 10)).isEmpty();
    }

    @Test
    void dispatchHandsEachPendingDeliveryOverOnceAndKeepsTheOnesThatFailedToStart() {
        webhooks.create("wh_00000000000000c1", "https://hooks.example/", RegistryEvents.TYPES, "s", null, "alice");
        RegistryEvents events = new RegistryEvents(db);
        for (int i = 0; i < 3; i++) {
            events.driftDetected("e" + i, "m", null, null);
        }
        List<Long> started = new ArrayList<>();
        int dispatched = webhooks.dispatchPending(10, id -> {
            if (started.size() == 2) {
                throw new IllegalStateException("Temporal is down");
            }
            started.add(id);
        });
        assertThat(dispatched).isEqualTo(2);
        assertThat(webhooks.dispatchPending(10, started::add)).isEqualTo(1);
        assertThat(webhooks.dispatchPending(10, started::add)).isZero();
        assertThat(started).doesNotHaveDuplicates().hasSize(3);

        long id = started.get(0);
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        webhooks.recordAttempt(id, 1, 500, "answered 500", t, t.plusMillis(20));
        webhooks.recordAttempt(id, 1, 500, "answered 500", t, t.plusMillis(20)); // a retried recording
        webhooks.recordAttempt(id, 2, 204, null, t.plusSeconds(1), t.plusSeconds(1));
        webhooks.finish(id, "delivered", null);
        assertThat(webhooks.attempts(id)).extracting(WebhookStore.Attempt::statusCode).containsExactly(500, 204);
        assertThat(webhooks.findDelivery(id).orElseThrow().state()).isEqualTo("delivered");
        assertThat(webhooks.findDelivery(id).orElseThrow().finishedAt()).isNotNull();
    }

    @Test
    void badSubscriptionsAreRefusedAndDeletingOneDropsItsDeliveries() {
        assertThatThrownBy(() -> webhooks.create("wh_00000000000000d1", "https://x/", List.of("model.deleted"), "s",
                null, "alice")).isInstanceOf(DataAccessException.class).hasMessageContaining("model.deleted");
        assertThatThrownBy(() -> webhooks.create("wh_00000000000000d1", "file:///etc/passwd", RegistryEvents.TYPES,
                "s", null, "alice")).isInstanceOf(DataAccessException.class);
        webhooks.create("wh_00000000000000d2", "https://x/", RegistryEvents.TYPES, "s", null, "alice");
        new RegistryEvents(db).driftDetected("e", "m", null, null);
        assertThat(webhooks.deliveries("wh_00000000000000d2", 10)).hasSize(1);
        assertThat(webhooks.delete("wh_00000000000000d2")).isTrue();
        assertThat(webhooks.delete("wh_00000000000000d2")).isFalse();
        assertThat(webhooks.find("wh_00000000000000d2")).isEmpty();
        assertThat(webhooks.deliveries("wh_00000000000000d2", 10)).isEmpty();
    }
}
