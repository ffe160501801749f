package dev.anvil.api;

import dev.anvil.api.auth.TestOidcProvider;
import dev.anvil.devstack.LocalStack;
import dev.anvil.devstack.SharedLocalStack;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Points the application under test at the shared local stack of this test JVM (real Temporal dev
 * server, S3 server and PostgreSQL, started by the tests) with a database of its own, and at a test
 * OIDC provider for bearer JWTs.
 */
public class LocalStackResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        LocalStack stack = SharedLocalStack.get();
        return Map.ofEntries(
                Map.entry("anvil.temporal.target", stack.temporalTarget()),
                Map.entry("anvil.s3.endpoint", stack.s3Endpoint()),
                Map.entry("anvil.s3.access-key", stack.config().s3AccessKey()),
                Map.entry("anvil.s3.secret-key", stack.config().s3SecretKey()),
                Map.entry("anvil.s3.bucket", "anvil-api-test"),
                // two roles, as ./anvil up gives: the owner migrates, the application's role connects
                Map.entry("quarkus.datasource.jdbc.url", SharedLocalStack.freshDatabaseWithOwner("anvil_api")),
                Map.entry("quarkus.datasource.username", stack.config().dbUser()),
                Map.entry("quarkus.datasource.password", stack.config().dbPassword()),
                Map.entry("anvil.db.owner-user", stack.config().dbOwnerUser()),
                Map.entry("anvil.db.owner-password", stack.config().dbOwnerPassword()),
                Map.entry("quarkus.http.test-port", "0"),
                Map.entry("anvil.auth.demo-tokens-file", TestTokens.writeFile().toString()),
                // a provenance key of this test JVM's own, generated on start (local mode's path)
                Map.entry("anvil.provenance.generated-key-file", provenanceKeyFile()),
                // small enough that GatewayTest can send a body over it cheaply
                Map.entry("anvil.gateway.max-request-bytes", "1048576"),
                // small enough that DatasetResourceTest can send a body over it, or a zip bomb past it, cheaply
                Map.entry("anvil.datasets.max-upload-bytes", "8388608"),
                Map.entry("anvil.datasets.max-inflated-bytes", "67108864"),
                // rollouts read the counters from PostgreSQL: publish them often so short test windows see them
                Map.entry("anvil.gateway.counts-publish-interval", "250ms"),
                // rollout tests walk their steps in seconds; RolloutEvidenceTest shows a 1 s window refused
                Map.entry("anvil.rollout.min-interval", "2s"),
                // bearer JWTs from a test OIDC provider (Keycloak-style realm roles) beside the API tokens
                Map.entry("anvil.auth.oidc.issuer", TestOidcProvider.shared().issuer()),
                Map.entry("anvil.auth.oidc.audience", "anvil"),
                Map.entry("anvil.auth.oidc.roles-claim", "realm_access.roles"),
                Map.entry("anvil.auth.oidc.role-prefix", "anvil-"),
                Map.entry("anvil.auth.oidc.client-id", TestOidcProvider.CLIENT_ID),
                Map.entry("anvil.auth.oidc.client-secret", TestOidcProvider.CLIENT_SECRET),
                // short, so that OidcAuthTest sees a rotated key soon after a forged token made Anvil refetch the keys
                Map.entry("anvil.auth.oidc.jwks-refresh-interval", "1s"),
                // WebhookResourceTest waits for a retried delivery: its first retry comes after a second
                Map.entry("anvil.webhooks.first-retry", "1s"));
    }

    private static String provenanceKeyFile() {
        try {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("anvil-provenance-");
            dir.toFile().deleteOnExit();
            return dir.resolve("provenance-key.pem").toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        // the shared stack stops when the test JVM exits
    }
}
