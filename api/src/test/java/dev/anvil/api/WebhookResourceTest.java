package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import com.sun.net.httpserver.HttpServer;
import dev.anvil.db.RegistryEvents;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Webhooks over REST against the real dev server: admins only, bad URLs and event types refused, and an approval
 * requested by a real pipeline run delivered, signed, to a local receiver that fails the first attempt.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class WebhookResourceTest {

    @Inject RegistryEvents events;

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    private static io.restassured.response.ValidatableResponse create(String token, Object body) {
        return given().spec(TestTokens.bearer(token)).contentType("application/json").body(body)
                .post("/api/webhooks").then();
    }

    @Test
    void onlyAdminsManageWebhooks() {
        Map<String, Object> body = Map.of("url", "https://hooks.example/", "events", List.of("rollout.promoted"));
        given().contentType("application/json").body(body).post("/api/webhooks").then().statusCode(401);
        create(TestTokens.SUBMITTER, body).statusCode(403);
        create(TestTokens.REVIEWER, body).statusCode(403);
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/webhooks").then().statusCode(403);
        String id = create(TestTokens.ADMIN, body).statusCode(201).extract().path("id");
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/webhooks/" + id + "/deliveries").then()
                .statusCode(403);
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).delete("/api/webhooks/" + id).then().statusCode(403);
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/webhooks/" + id).then().statusCode(200);
    }

    @Test
    void urlsThatAreNotHttpAndUnknownEventsAreRefusedNamingTheField() {
        for (String url : List.of("file:///etc/passwd", "ftp://files.example/hook", "javascript:alert(1)",
                "gopher://x/", "hooks.example/no-scheme", "http:///no-host", "https://user:pw@hooks.example/",
                "http://exa mple.com/")) {
            create(TestTokens.ADMIN, Map.of("url", url, "events", List.of("rollout.promoted")))
                    .statusCode(400).contentType("application/problem+json").body("errors[0].field", equalTo("url"));
        }
        create(TestTokens.ADMIN, Map.of("events", List.of("rollout.promoted"))).statusCode(400)
                .body("errors[0].field", equalTo("url"));
        create(TestTokens.ADMIN, Map.of("url", "https://hooks.example/", "events", List.of("model.deleted")))
                .statusCode(400).body("errors[0].field", equalTo("events"))
                .body("detail", containsString("unknown event type 'model.deleted'"))
                .body("detail", containsString("drift.detected"));
        create(TestTokens.ADMIN, Map.of("url", "https://hooks.example/", "events", List.of())).statusCode(400)
                .body("errors[0].field", equalTo("events"));
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/json").body("{\"url\": ")
                .post("/api/webhooks").then().statusCode(400);
    }

    @Test
    void theSecretIsShownOnceAndDeletingRemovesTheWebhook() {
        JsonPath made = create(TestTokens.ADMIN, Map.of("url", "HTTPS://hooks.example/anvil",
                "events", List.of("model.alias.moved", "model.alias.moved"), "description", "ops channel"))
                .statusCode(201).extract().jsonPath();
        String id = made.getString("id");
        assertThat(id).matches("wh_[0-9a-f]{16}");
        assertThat(made.getString("secret")).matches("whsec_[0-9a-f]{64}");
        assertThat(made.getList("events")).containsExactly("model.alias.moved");
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/webhooks/" + id).then().statusCode(200)
                .body("url", equalTo("HTTPS://hooks.example/anvil")).body("createdBy", equalTo("demo-admin"))
                .body("$", not(org.hamcrest.Matchers.hasKey("secret")));
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/webhooks").then().statusCode(200)
                .body("id", hasItem(id)).body(not(containsString(made.getString("secret"))));
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/webhooks/" + id + "/deliveries?limit=0").then()
                .statusCode(400).body("errors[0].field", equalTo("limit"));

        given().spec(TestTokens.bearer(TestTokens.ADMIN)).delete("/api/webhooks/" + id).then().statusCode(204);
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/webhooks/" + id).then().statusCode(404)
                .contentType("application/problem+json");
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).delete("/api/webhooks/" + id).then().statusCode(404);
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/webhooks/" + id + "/deliveries").then()
                .statusCode(404);
    }

    /** A receiver that checks each delivery's signature on its own and fails the first attempt at each. */
    private static final class Receiver implements AutoCloseable {
        final HttpServer server;
        final List<Map<String, String>> calls = new CopyOnWriteArrayList<>();
        final Set<String> failedOnce = ConcurrentHashMap.newKeySet();
        volatile String secret;

        Receiver() throws Exception {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/hook", exchange -> {
                byte[] body = exchange.getRequestBody().readAllBytes();
                String delivery = exchange.getRequestHeaders().getFirst("Anvil-Delivery");
                boolean signed = signedBy(secret, exchange.getRequestHeaders().getFirst("Anvil-Timestamp"), body,
                        exchange.getRequestHeaders().getFirst("Anvil-Signature"));
                int status = !signed ? 401 : failedOnce.add(delivery) ? 500 : 204;
                calls.add(Map.of("delivery", String.valueOf(delivery), "status", Integer.toString(status),
                        "event", String.valueOf(exchange.getRequestHeaders().getFirst("Anvil-Event")),
                        "body", new String(body, StandardCharsets.UTF_8)));
                exchange.sendResponseHeaders(status, -1);
                exchange.close();
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    private static boolean signedBy(String secret, String timestamp, byte[] body, String signature) {
        try {
            if (secret == null || timestamp == null || signature == null
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

    @Test
    void anApprovalRequestedByARunIsDeliveredSignedAfterAFailedFirstAttempt() throws Exception {
        try (Receiver receiver = new Receiver()) {
            JsonPath made = create(TestTokens.ADMIN, Map.of("url", receiver.url(),
                    "events", List.of("approval.requested", "drift.detected"))).statusCode(201).extract().jsonPath();
            receiver.secret = made.getString("secret");
            String id = made.getString("id");

            String run = ApprovalResourceTest.startGatedRun(TestTokens.SUBMITTER);
            ApprovalResourceTest.awaitPendingApproval(run);
            // the event the drift detector publishes, through the one method it calls
            events.driftDetected("classify", "resnet50", 4, "{\"feature\": \"age\", \"psi\": 0.27}");

            List<Map<String, Object>> deliveries = await("both deliveries delivered").atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> given().spec(TestTokens.bearer(TestTokens.ADMIN))
                            .get("/api/webhooks/" + id + "/deliveries").then().statusCode(200).extract().jsonPath()
                            .<Map<String, Object>>getList("$"), list -> list.size() == 2
                            && list.stream().allMatch(d -> "delivered".equals(d.get("state"))));

            JsonPath log = given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/webhooks/" + id + "/deliveries")
                    .then().statusCode(200).extract().jsonPath();
            assertThat(log.getList("type")).containsExactly("drift.detected", "approval.requested");
            assertThat(log.getString("[1].subject")).isEqualTo("run:" + run);
            for (int i = 0; i < 2; i++) {
                assertThat(log.getList("[" + i + "].attempts.attempt")).containsExactly(1, 2);
                assertThat(log.getList("[" + i + "].attempts.statusCode")).containsExactly(500, 204);
                assertThat(log.getString("[" + i + "].attempts[0].error")).contains("answered 500");
                assertThat(log.getString("[" + i + "].attempts[1].error")).isNull();
                assertThat(log.getString("[" + i + "].attempts[1].startedAt")).isNotNull();
                assertThat(log.getString("[" + i + "].finishedAt")).isNotNull();
            }
            assertThat(deliveries).hasSize(2);

            // the receiver saw four signed calls (a 401 would mean a bad signature), two per delivery
            assertThat(receiver.calls).extracting(c -> c.get("status")).containsExactlyInAnyOrder("500", "204", "500",
                    "204");
            Map<String, String> approval = receiver.calls.stream()
                    .filter(c -> c.get("event").equals("approval.requested") && c.get("status").equals("204"))
                    .findFirst().orElseThrow();
            JsonPath body = new JsonPath(approval.get("body"));
            assertThat(body.getString("type")).isEqualTo("approval.requested");
            assertThat(body.getString("data.run")).isEqualTo(run);
            assertThat(body.getString("data.task")).isEqualTo("approve");
            assertThat(body.getString("data.requestedBy")).isEqualTo("demo-submitter");
            assertThat(body.getString("webhook")).isEqualTo(id);

            given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/audit?subject=webhook:" + id).then()
                    .statusCode(200).body("action", hasItem("webhook.created")).body("actor", hasItem("demo-admin"));
        }
    }
}
