package dev.anvil.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.devstack.LocalStack;
import dev.anvil.devstack.SharedLocalStack;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store against the local stack's S3 server (S3Proxy on a directory): runs everywhere, no Docker. */
class ObjectStoreTest extends ObjectStoreScenarios {
    private static final String BUCKET = randomBucket("objectstore-test");
    private static MinioClient client;

    @BeforeAll
    static void connect() {
        LocalStack stack = SharedLocalStack.get();
        client = MinioClient.builder().endpoint(stack.s3Endpoint())
                .credentials(stack.config().s3AccessKey(), stack.config().s3SecretKey()).build();
    }

    @Override
    protected MinioClient client() {
        return client;
    }

    @Override
    protected String bucket() {
        return BUCKET;
    }

    @Test
    void ensureBucketIsIdempotent() {
        store.ensureBucket();
        store.ensureBucket();
    }

    @Test
    void emptyArtifactRoundTrips() throws IOException {
        StoredObject ref = store.put(InputStream.nullInputStream(), "application/octet-stream", Optional.empty()).ref();

        assertThat(ref.size()).isZero();
        assertThat(ref.sha256()).isEqualTo(sha256(new byte[0]));
        try (InputStream in = store.open(ref)) {
            assertThat(in.readAllBytes()).isEmpty();
        }
    }

    @Test
    void invalidBucketNameIsRejected() {
        assertThatThrownBy(() -> new ObjectStore(client, "Bad_Bucket"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'Bad_Bucket' is not a valid S3 bucket name");
    }

    @Test
    void sameContentTwiceGivesTheSameReferenceAndOneObject() throws IOException {
        byte[] bytes = ("dedupe " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);

        PutResult first = store.put(new ByteArrayInputStream(bytes), "text/plain", Optional.empty());
        PutResult second = store.put(new ByteArrayInputStream(bytes), "text/plain", Optional.empty());

        assertThat(first.created()).isTrue();
        assertThat(second.created()).isFalse();
        assertThat(second.ref()).isEqualTo(first.ref());
        String sha = first.ref().sha256();
        assertThat(objectNames("sha256/" + sha.substring(0, 2) + "/")).containsOnlyOnce(ContentKeys.contentKey(sha));
        assertThat(objectNames("tmp/")).isEmpty();
    }

    @Test
    void upperCaseExpectedSha256IsAccepted() throws IOException {
        byte[] bytes = ("upper " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        String sha = sha256(bytes);

        PutResult result = store.put(new ByteArrayInputStream(bytes), "text/plain",
                Optional.of(sha.toUpperCase(Locale.ROOT)));

        assertThat(result.ref().sha256()).isEqualTo(sha);
    }

    @Test
    void malformedExpectedSha256IsRejectedBeforeAnythingIsUploaded() {
        assertThatThrownBy(() -> store.put(new ByteArrayInputStream(new byte[1]), "text/plain", Optional.of("abc123")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'abc123' is not a sha256")
                .hasMessageContaining("64 hex digits");
        assertThatThrownBy(() -> store.find("z".repeat(64)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a sha256");
        assertThat(objectNames("tmp/")).isEmpty();
    }

    @Test
    void badMediaTypeIsRejected() {
        assertThatThrownBy(() -> store.put(new ByteArrayInputStream(new byte[1]), "onnx", Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("media type 'onnx'");
    }

    @Test
    void tamperedObjectFailsVerificationOnRead(@TempDir Path dir) throws Exception {
        byte[] bytes = ("tamper " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        StoredObject ref = store.put(new ByteArrayInputStream(bytes), "text/plain", Optional.empty()).ref();
        byte[] tampered = Arrays.copyOf(bytes, bytes.length);
        tampered[0] ^= 1;
        client.putObject(PutObjectArgs.builder().bucket(BUCKET).object(ContentKeys.contentKey(ref.sha256()))
                .data(tampered, tampered.length).build());

        try (InputStream in = store.open(ref)) {
            assertThatThrownBy(in::readAllBytes)
                    .isInstanceOf(ArtifactCorruptedException.class)
                    .hasMessageContaining(ref.uri())
                    .hasMessageContaining(ref.sha256())
                    .hasMessageContaining(sha256(tampered));
        }

        Path target = dir.resolve("model.bin");
        assertThatThrownBy(() -> store.copyTo(ref, target)).isInstanceOf(ArtifactCorruptedException.class);
        try (var files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void copyToWritesTheVerifiedBytes(@TempDir Path dir) throws IOException {
        long size = 3 * MIB + 7;
        StoredObject ref = store.put(new GeneratedInputStream(size, 3), "application/octet-stream", Optional.empty()).ref();

        Path target = dir.resolve("nested/model.bin");
        store.copyTo(ref, target);

        assertThat(Files.size(target)).isEqualTo(size);
        try (InputStream in = Files.newInputStream(target)) {
            assertThat(sha256(in)).isEqualTo(ref.sha256());
        }
    }

    @Test
    void presignedUrlDownloadsTheBytesWithAPlainHttpClient() throws Exception {
        byte[] bytes = ("presigned " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        StoredObject ref = store.put(new ByteArrayInputStream(bytes), "text/plain", Optional.empty()).ref();

        String url = store.presignedGetUrl(ref.sha256(), Duration.ofMinutes(5));

        HttpResponse<byte[]> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(bytes);
    }

    @Test
    void presignedUrlExpiryOutOfRangeIsRejected() {
        assertThatThrownBy(() -> store.presignedGetUrl("a".repeat(64), Duration.ofDays(8)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("7 days");
    }

    @Test
    void unknownSha256IsNotFound() {
        String unknown = sha256(("never stored " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8));

        assertThat(store.find(unknown)).isEmpty();
        assertThat(store.exists(unknown)).isFalse();
        assertThatThrownBy(() -> store.open(unknown, 10))
                .isInstanceOf(ArtifactNotFoundException.class)
                .hasMessageContaining(unknown)
                .hasMessageContaining(BUCKET);
    }

    @Test
    void refFromAnotherBucketIsRejected() {
        String sha = "b".repeat(64);
        StoredObject elsewhere = new StoredObject("s3://other-bucket/" + ContentKeys.contentKey(sha), sha, 1, "text/plain");

        assertThatThrownBy(() -> store.open(elsewhere))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not in this store");
    }

    @Test
    void failingSourceStreamStoresNothing() {
        InputStream failing = new InputStream() {
            private int left = 1000;

            @Override
            public int read() throws IOException {
                if (left == 0) {
                    throw new IOException("disk went away");
                }
                left--;
                return 42;
            }
        };

        assertThatThrownBy(() -> store.put(failing, "text/plain", Optional.empty()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("disk went away")
                .hasMessageContaining("nothing was stored");
        assertThat(objectNames("tmp/")).isEmpty();
    }

    @Test
    void missingBucketFailsWithAnActionableMessage() {
        ObjectStore nowhere = new ObjectStore(client, randomBucket("objectstore-missing"));

        assertThatThrownBy(() -> nowhere.put(new ByteArrayInputStream(new byte[1]), "text/plain", Optional.empty()))
                .isInstanceOf(ObjectStoreException.class)
                .hasMessageContaining("ensureBucket")
                .satisfies(e -> assertThat(((ObjectStoreException) e).retryable()).isFalse());
    }
}
