package dev.anvil.serving.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.devstack.LocalStack;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.modelkit.security.ExternalDataModels;
import dev.anvil.serving.GatewayException;
import dev.anvil.serving.ModelSessions;
import dev.anvil.storage.ObjectStore;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The gateway writes each artifact to a temporary file before loading it; a model whose weight names a
 * file in that folder is refused at load, with the reason reported (so a rollout of it fails and says why).
 */
class ExternalDataServingTest {
    @Test
    void loadingRefusesTheModelAndReportsWhy() throws Exception {
        LocalStack stack = SharedLocalStack.get();
        Path secret = Files.createTempFile("anvil-secret-", ".txt");
        Files.writeString(secret, ExternalDataModels.SECRET, StandardCharsets.US_ASCII);
        String name = secret.getFileName().toString();
        Map<String, String> failures = new ConcurrentHashMap<>();
        ModelSessions.Reports reports = new ModelSessions.Reports() {
            @Override
            public void loaded(String sha256) {
            }

            @Override
            public void failed(String sha256, String error) {
                failures.put(sha256, error);
            }

            @Override
            public void holding(Set<String> sha256s) {
            }
        };
        try (ObjectStore objects = ObjectStore.connect(stack.s3Endpoint(), stack.config().s3AccessKey(),
                        stack.config().s3SecretKey(), "extdata-serving-test");
                ModelSessions sessions = new ModelSessions(objects, OrtEnvironment.getEnvironment(), 1, reports)) {
            objects.ensureBucket();
            String sha = objects.put(new ByteArrayInputStream(ExternalDataModels.readsFile(name).toByteArray()),
                    "application/octet-stream", Optional.empty()).ref().sha256();
            String refusal = "external data is not supported: embed the weights (tensor 'W' refers to file '"
                    + name + "')";

            assertThatThrownBy(() -> sessions.load(sha).join()).isInstanceOf(CompletionException.class)
                    .cause().isInstanceOf(GatewayException.class).hasMessageContaining(refusal)
                    .satisfies(e -> assertThat(((GatewayException) e).status()).isEqualTo(503));
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(failures.get(sha)).contains(refusal));
            assertThat(sessions.loaded()).doesNotContain(sha);
        } finally {
            Files.deleteIfExists(secret);
        }
    }
}
