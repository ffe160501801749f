package dev.anvil.activities.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.anvil.db.Migrations;
import dev.anvil.db.RegistryEvents;
import dev.anvil.db.WebhookStore;
import dev.anvil.db.WebhookStore.Attempt;
import dev.anvil.db.WebhookStore.Delivery;
import dev.anvil.devstack.LocalStack;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.webhooks.WebhookDelivery;
import dev.anvil.workflows.webhooks.WebhookDeliveryWorkflow;
import dev.anvil.workflows.webhooks.WebhookDeliveryWorkflowImpl;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Deliveries end to end below the API: a registry event in PostgreSQL, the dispatcher, the delivery workflow and
 * its activities on a Temporal test server, and a real HTTP receiver that checks the signature on its own.
 */
class WebhookDeliveryTest {
    private static final String SECRET = WebhookSignature.newSecret();

    private final ObjectMapper json = new ObjectMapper();
    private final List<String> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger calls = new AtomicInteger();
    private HttpServer receiver;
    private PGSimpleDataSource db;
    private WebhookStore store;
    private TestWorkflowEnvironment temporal;
    private volatile int[] answers;

    @BeforeEach
    void open() throws Exception {
        LocalStack stack = SharedLocalStack.get();
        db = new PGSimpleDataSource();
        db.setURL(SharedLocalStack.freshDatabase("webhooks"));
        db.setUser(stack.config().dbUser());
        db.setPassword(stack.config().dbPassword());
        Migrations.migrate(db);
        store = new WebhookStore(db);

        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String timestamp = exchange.getRequestHeaders().getFirst("Anvil-Timestamp");
            String signature = exchange.getRequestHeaders().getFirst("Anvil-Signature");
            int call = calls.getAndIncrement();
            int status = !signedBy(SECRET, timestamp, body, signature) ? 401 : answers[Math.min(call, answers.length - 1)];
            received.add(status + " " + new String(body, StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        receiver.start();

        temporal = TestWorkflowEnvironment.newInstance();
        Worker worker = temporal.newWorker(TaskQueues.CPU);
        worker.registerWorkflowImplementationTypes(WebhookDeliveryWorkflowImpl.class);
        worker.registerActivitiesImplementations(new WebhookActivitiesImpl(store, HttpClient.newHttpClient(), json,
                Duration.ofSeconds(5), Clock.systemUTC()));
        temporal.start();
    }

    @AfterEach
    void close() {
        temporal.close();
        receiver.stop(0);
    }

    /** The receiver's own check, as docs/webhooks.md tells receivers to make it (not Anvil's code). */
    private static boolean signedBy(String secret, String timestamp, byte[] body, String signature) {
        try {
            if (timestamp == null || signature == null
                    || Math.abs(System.currentTimeMillis() / 1000 - Long.parseLong(timestamp)) > 300) {
                return false;
            }
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
            String expected = "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
            return java.security.MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
                    signature.getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            return false;
        }
    }

    private String url() {
        return "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
    }

    private WebhookDispatcher dispatcher(int maxAttempts) {
        return new WebhookDispatcher(store, temporal.getWorkflowClient(), Duration.ofSeconds(1), Duration.ofSeconds(4),
                maxAttempts);
    }

    private String awaitEnd(long deliveryId) {
        return temporal.getWorkflowClient().newUntypedWorkflowStub(WebhookDelivery.workflowId(deliveryId))
                .getResult(String.class);
    }

    @Test
    void aFailedDeliveryIsRetriedSignedAndTheLogShowsBothAttempts() throws Exception {
        answers = new int[] {500, 204};
        store.create("wh_0000000000000001", url(), List.of(RegistryEvents.DRIFT_DETECTED), SECRET, null, "admin");
        long event = new RegistryEvents(db).driftDetected("classify", "resnet50", 3, "{\"psi\": 0.4}");

        assertThat(dispatcher(5).dispatch()).isEqualTo(1);
        Delivery delivery = store.deliveries("wh_0000000000000001", 10).get(0);
        assertThat(awaitEnd(delivery.id())).isEqualTo("delivered");

        assertThat(received).hasSize(2);
        assertThat(received.get(0)).startsWith("500 ");
        assertThat(received.get(1)).startsWith("204 ");
        // the same body both times, each signed with its own timestamp
        assertThat(received.get(0).substring(4)).isEqualTo(received.get(1).substring(4));
        JsonNode body = json.readTree(received.get(1).substring(4));
        assertThat(body.path("event").asLong()).isEqualTo(event);
        assertThat(body.path("type").asText()).isEqualTo("drift.detected");
        assertThat(body.path("delivery").asLong()).isEqualTo(delivery.id());
        assertThat(body.path("data").path("details").path("psi").asDouble()).isEqualTo(0.4);

        List<Attempt> attempts = store.attempts(delivery.id());
        assertThat(attempts).extracting(Attempt::attempt).containsExactly(1, 2);
        assertThat(attempts).extracting(Attempt::statusCode).containsExactly(500, 204);
        assertThat(attempts.get(0).error()).contains("answered 500");
        assertThat(attempts.get(1).error()).isNull();
        assertThat(attempts.get(1).startedAt()).isAfterOrEqualTo(attempts.get(0).finishedAt());
        assertThat(store.findDelivery(delivery.id()).orElseThrow().state()).isEqualTo("delivered");
        // dispatching again starts nothing: the delivery is out of the outbox
        assertThat(dispatcher(5).dispatch()).isZero();
    }

    @Test
    void aReceiverThatNeverAcceptsExhaustsTheAttemptsAndTheDeliveryFails() {
        answers = new int[] {503};
        store.create("wh_0000000000000002", url(), RegistryEvents.TYPES, SECRET, null, "admin");
        new RegistryEvents(db).driftDetected("classify", "resnet50", null, null);

        dispatcher(3).dispatch();
        Delivery delivery = store.deliveries("wh_0000000000000002", 10).get(0);
        assertThat(awaitEnd(delivery.id())).isEqualTo("failed");

        assertThat(store.attempts(delivery.id())).extracting(Attempt::statusCode).containsExactly(503, 503, 503);
        Delivery failed = store.findDelivery(delivery.id()).orElseThrow();
        assertThat(failed.state()).isEqualTo("failed");
        assertThat(failed.error()).contains("answered 503");
    }

    @Test
    void aSignatureMadeWithAnotherSecretIsRefusedByTheReceiver() {
        answers = new int[] {204};
        store.create("wh_0000000000000003", url(), RegistryEvents.TYPES, WebhookSignature.newSecret(), null, "admin");
        new RegistryEvents(db).driftDetected("classify", "resnet50", null, null);

        dispatcher(2).dispatch();
        Delivery delivery = store.deliveries("wh_0000000000000003", 10).get(0);
        assertThat(awaitEnd(delivery.id())).isEqualTo("failed");
        assertThat(store.attempts(delivery.id())).extracting(Attempt::statusCode).containsExactly(401, 401);
    }

    @Test
    void aDeliveryToAnUnreachableReceiverRecordsNoStatusButTheError() {
        answers = new int[] {204};
        receiver.stop(0);
        store.create("wh_0000000000000004", url(), RegistryEvents.TYPES, SECRET, null, "admin");
        new RegistryEvents(db).driftDetected("classify", "resnet50", null, null);

        dispatcher(1).dispatch();
        Delivery delivery = store.deliveries("wh_0000000000000004", 10).get(0);
        assertThat(awaitEnd(delivery.id())).isEqualTo("failed");
        Attempt only = store.attempts(delivery.id()).get(0);
        assertThat(only.statusCode()).isNull();
        assertThat(only.error()).startsWith("no answer from " + url());
    }

    @Test
    void aDeliveryWhoseWebhookWasDeletedEndsWithoutPosting() {
        answers = new int[] {204};
        store.create("wh_0000000000000005", url(), RegistryEvents.TYPES, SECRET, null, "admin");
        new RegistryEvents(db).driftDetected("classify", "resnet50", null, null);
        long id = store.deliveries("wh_0000000000000005", 10).get(0).id();
        store.delete("wh_0000000000000005");

        // the dispatcher only sees pending rows, and the row went with its webhook: start the workflow by hand
        WebhookDeliveryWorkflow workflow = temporal.getWorkflowClient().newWorkflowStub(WebhookDeliveryWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(WebhookDelivery.workflowId(id)).setTaskQueue(TaskQueues.CPU)
                        .build());
        assertThat(workflow.deliver(new WebhookDelivery(id, 1000, 1000, 3))).isEqualTo("gone");
        assertThat(received).isEmpty();
    }

    @Test
    void theSignatureCoversTheTimestampSoAReplayWithAnotherTimestampFailsVerification() {
        byte[] body = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
        String signature = WebhookSignature.sign(SECRET, 1_700_000_000L, body);
        assertThat(WebhookSignature.verify(SECRET, "1700000000", signature, body, 1_700_000_010L, 300)).isTrue();
        assertThat(WebhookSignature.verify(SECRET, "1700000100", signature, body, 1_700_000_110L, 300)).isFalse();
        assertThat(WebhookSignature.verify(SECRET, "1700000000", signature, body, 1_700_000_000L + 301, 300)).isFalse();
        assertThat(WebhookSignature.verify(SECRET, "1700000000", signature, "{\"a\":2}".getBytes(StandardCharsets.UTF_8),
                1_700_000_000L, 300)).isFalse();
        assertThat(WebhookSignature.verify(SECRET, "soon", signature, body, 1_700_000_000L, 300)).isFalse();
        assertThat(signedBy(SECRET, null, body, signature)).isFalse();
    }
}
