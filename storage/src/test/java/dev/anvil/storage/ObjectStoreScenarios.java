package dev.anvil.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.minio.Result;
import io.minio.messages.Item;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The store's contract, run against whichever S3 server a subclass provides: the local stack's
 * S3Proxy ({@link ObjectStoreTest}) and real MinIO in a container ({@link ObjectStoreIT}).
 */
// a hung upload fails the test instead of the build (a separate thread: MinIO's join() ignores interrupts)
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
abstract class ObjectStoreScenarios {
    static final long MIB = 1024L * 1024L;

    protected ObjectStore store;

    /** A client for the server under test; each test class uses its own bucket. */
    protected abstract MinioClient client();

    protected abstract String bucket();

    static String randomBucket(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @BeforeEach
    void openStore() {
        store = new ObjectStore(client(), bucket());
        store.ensureBucket();
    }

    @Test
    void smallArtifactRoundTrips() throws IOException {
        byte[] bytes = "weights v1".getBytes(StandardCharsets.UTF_8);

        PutResult result = store.put(new ByteArrayInputStream(bytes), "application/octet-stream", Optional.empty());

        StoredObject ref = result.ref();
        assertThat(ref.sha256()).isEqualTo(sha256(bytes));
        assertThat(ref.size()).isEqualTo(bytes.length);
        assertThat(ref.mediaType()).isEqualTo("application/octet-stream");
        assertThat(ref.uri()).isEqualTo("s3://" + bucket() + "/sha256/" + ref.sha256().substring(0, 2) + "/" + ref.sha256());
        try (InputStream in = store.open(ref)) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
    }

    @Test
    void multipartArtifactRoundTripsWithTheIndependentlyComputedSha256() throws IOException {
        long size = 40 * MIB + 123;
        String expected = sha256(new GeneratedInputStream(size, 40));

        PutResult result = store.put(new GeneratedInputStream(size, 40), "application/x-onnx", Optional.of(expected));

        assertThat(result.created()).isTrue();
        assertThat(result.ref().sha256()).isEqualTo(expected);
        assertThat(result.ref().size()).isEqualTo(size);
        assertThat(store.find(expected)).contains(result.ref());
        try (InputStream in = store.open(result.ref())) {
            assertThat(sha256(in)).isEqualTo(expected);
        }
        assertThat(objectNames("tmp/")).isEmpty();
    }

    @Test
    void expectedChecksumMismatchStoresNothing() {
        byte[] bytes = ("mismatch " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        String actual = sha256(bytes);
        String wrong = sha256("something else".getBytes(StandardCharsets.UTF_8));

        assertThatThrownBy(() -> store.put(new ByteArrayInputStream(bytes), "text/plain", Optional.of(wrong)))
                .isInstanceOf(ChecksumMismatchException.class)
                .hasMessageContaining(wrong)
                .hasMessageContaining(actual)
                .hasMessageContaining("nothing was stored");

        assertThat(store.find(actual)).isEmpty();
        assertThat(objectNames("sha256/" + actual.substring(0, 2) + "/")).doesNotContain(ContentKeys.contentKey(actual));
        assertThat(objectNames("tmp/")).isEmpty();
    }

    protected List<String> objectNames(String prefix) {
        List<String> names = new ArrayList<>();
        for (Result<Item> item : client().listObjects(
                ListObjectsArgs.builder().bucket(bucket()).prefix(prefix).recursive(true).build())) {
            try {
                names.add(item.get().objectName());
            } catch (Exception e) {
                throw new AssertionError("listing " + prefix + " in " + bucket() + " failed", e);
            }
        }
        return names;
    }

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    static String sha256(InputStream in) throws IOException {
        MessageDigest digest = digest();
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = in.read(buffer)) >= 0; ) {
            digest.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
