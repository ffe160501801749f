package dev.anvil.storage;

import io.minio.BucketExistsArgs;
import io.minio.ComposeObjectArgs;
import io.minio.CopyObjectArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.Http;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.SourceObject;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.errors.MinioException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import okhttp3.MediaType;

/**
 * Content-addressed artifact storage in one S3 bucket. An artifact's bytes live under
 * {@code sha256/<first two hex>/<sha256>} and are referred to as {@code s3://<bucket>/<key>}.
 *
 * <p>Writes stream: {@link #put} hashes while it uploads to a temporary key {@code tmp/<uuid>} in
 * {@value #PART_SIZE_MIB} MiB parts (so memory does not grow with the artifact), and publishes to the
 * content key with a server-side copy only once the sha256 is known and matches what the caller
 * expected. A content key therefore only ever holds complete, verified bytes. The temporary key is
 * deleted whatever happens; should that delete itself fail, the object is garbage under {@code tmp/}
 * (an S3 lifecycle rule expiring {@code tmp/} after a day cleans it up).
 *
 * <p>Reads verify: the stream from {@link #open} recomputes the sha256 and throws
 * {@link ArtifactCorruptedException} at the end when the bytes are not the artifact's.
 *
 * <p>Failures: bad arguments throw {@link IllegalArgumentException}; bytes that do not match the expected
 * sum {@link ChecksumMismatchException}; a missing artifact {@link ArtifactNotFoundException} (or an empty
 * Optional); every other storage failure an {@link ObjectStoreException}. Thread-safe if the client is.
 */
public final class ObjectStore implements AutoCloseable {
    static final int PART_SIZE_MIB = 16;
    /** Parts buffer in memory one at a time; 16 MiB keeps that small and allows 156 GiB in 10,000 parts. */
    private static final long PART_SIZE = PART_SIZE_MIB * 1024L * 1024L;
    /** S3's limit for a single CopyObject; larger objects are copied part by part (composeObject). */
    private static final long MAX_SINGLE_COPY = 5L * 1024 * 1024 * 1024;
    private static final long MAX_PRESIGN_SECONDS = Duration.ofDays(7).toSeconds();
    private static final System.Logger LOG = System.getLogger(ObjectStore.class.getName());

    private final MinioClient client;
    private final String bucket;
    private final boolean ownsClient;

    /** A store over {@code client}; the caller keeps ownership of the client ({@link #close} leaves it open). */
    public ObjectStore(MinioClient client, String bucket) {
        this(client, bucket, false);
    }

    private ObjectStore(MinioClient client, String bucket, boolean ownsClient) {
        this.client = Objects.requireNonNull(client, "client");
        if (bucket == null || bucket.isBlank()) {
            throw new IllegalArgumentException("the artifact bucket name is missing (set ANVIL_S3_BUCKET)");
        }
        try {
            BucketExistsArgs.builder().bucket(bucket);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + bucket + "' is not a valid S3 bucket name: use 3-63 lower-case"
                    + " letters, digits, dots and hyphens, starting and ending with a letter or digit", e);
        }
        this.bucket = bucket;
        this.ownsClient = ownsClient;
    }

    /** A store with its own client for {@code endpoint} (e.g. {@code http://127.0.0.1:9000}); close it when done. */
    public static ObjectStore connect(String endpoint, String accessKey, String secretKey, String bucket) {
        if (endpoint == null || endpoint.isBlank()) {
            throw new IllegalArgumentException("the S3 endpoint is missing (set ANVIL_S3_ENDPOINT, e.g. http://127.0.0.1:9000)");
        }
        MinioClient client;
        try {
            client = MinioClient.builder().endpoint(endpoint).credentials(accessKey, secretKey).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + endpoint + "' is not a usable S3 endpoint: " + e.getMessage(), e);
        }
        return new ObjectStore(client, bucket, true);
    }

    public String bucket() {
        return bucket;
    }

    /** Creates the bucket unless it exists; safe to call from several processes at once. */
    public void ensureBucket() {
        boolean exists = call("check bucket", null, () -> client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build()));
        if (exists) {
            return;
        }
        try {
            client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
        } catch (MinioException e) {
            if (!MinioErrors.isBucketAlreadyOwned(e)) {
                throw MinioErrors.translate(e, "create bucket", bucket, null);
            }
        }
    }

    /**
     * Streams {@code in} into the store (the caller closes {@code in}) and returns its reference.
     *
     * @param mediaType       stored as the object's Content-Type and returned in the reference
     * @param expectedSha256  when present, the bytes must hash to it (64 hex digits, any case) or
     *                        nothing is stored and {@link ChecksumMismatchException} is thrown
     * @return the reference, with {@code created} false when the same bytes were already stored (the
     *         existing reference, with the media type it was first stored with, is returned)
     * @throws IOException reading {@code in} failed; nothing was stored
     */
    public PutResult put(InputStream in, String mediaType, Optional<String> expectedSha256) throws IOException {
        Objects.requireNonNull(in, "in");
        requireMediaType(mediaType);
        Optional<String> expected = expectedSha256.map(ContentKeys::normalize);
        String tempKey = ContentKeys.TEMP_PREFIX + UUID.randomUUID();
        HashingInputStream hashing = new HashingInputStream(in);
        Throwable failure = null;
        try {
            upload(tempKey, hashing, mediaType);
            String sha256 = hashing.sha256Hex();
            long size = hashing.count();
            if (expected.isPresent() && !expected.get().equals(sha256)) {
                throw new ChecksumMismatchException(expected.get(), sha256, size);
            }
            Optional<StoredObject> existing = find(sha256);
            if (existing.isPresent()) {
                return new PutResult(existing.get(), false);
            }
            String key = ContentKeys.contentKey(sha256);
            publish(tempKey, key, size, mediaType);
            return new PutResult(new StoredObject(uri(key), sha256, size, mediaType), true);
        } catch (IOException | RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            removeTemp(tempKey, failure);
        }
    }

    /**
     * Opens the artifact for reading. The stream verifies sha256 and size as it is read and throws
     * {@link ArtifactCorruptedException} from the read that reaches the end when they differ; only a
     * stream read to its end has been verified.
     */
    public InputStream open(StoredObject ref) {
        Objects.requireNonNull(ref, "ref");
        String sha256 = ContentKeys.normalize(ref.sha256());
        String key = ContentKeys.contentKey(sha256);
        if (ref.uri() != null && !ref.uri().equals(uri(key))) {
            throw new IllegalArgumentException("artifact " + ref.uri() + " is not in this store: its sha256 would be"
                    + " stored at " + uri(key) + " (bucket '" + bucket + "')");
        }
        return open(sha256, ref.size());
    }

    /** Opens the artifact with this sha256, verifying as {@link #open(StoredObject)} does. */
    public InputStream open(String sha256, long expectedSize) {
        String normalized = ContentKeys.normalize(sha256);
        if (expectedSize < 0) {
            throw new IllegalArgumentException("expected size of artifact " + normalized + " is " + expectedSize
                    + "; it must be zero or more bytes");
        }
        String key = ContentKeys.contentKey(normalized);
        InputStream body;
        try {
            body = client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build());
        } catch (MinioException e) {
            throw notFoundOr(e, "download", normalized, key);
        }
        return new VerifyingInputStream(body, uri(key), normalized, expectedSize);
    }

    /**
     * Downloads the artifact to {@code file} (replacing it), verified. The bytes go to a temporary file
     * beside it that is moved into place only once verified, so {@code file} never holds bad or partial bytes.
     */
    public void copyTo(StoredObject ref, Path file) throws IOException {
        Path target = file.toAbsolutePath();
        Files.createDirectories(target.getParent());
        Path partial = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".partial");
        try {
            try (InputStream in = open(ref); OutputStream out = Files.newOutputStream(partial)) {
                in.transferTo(out);
            }
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    /** The artifact stored under this sha256, or empty when there is none. */
    public Optional<StoredObject> find(String sha256) {
        String normalized = ContentKeys.normalize(sha256);
        String key = ContentKeys.contentKey(normalized);
        StatObjectResponse stat;
        try {
            stat = client.statObject(StatObjectArgs.builder().bucket(bucket).object(key).build());
        } catch (MinioException e) {
            if (MinioErrors.isObjectNotFound(e)) {
                return Optional.empty();
            }
            throw MinioErrors.translate(e, "stat", bucket, key);
        }
        String mediaType = stat.contentType() == null ? "application/octet-stream" : stat.contentType();
        return Optional.of(new StoredObject(uri(key), normalized, stat.size(), mediaType));
    }

    public boolean exists(String sha256) {
        return find(sha256).isPresent();
    }

    /**
     * A URL anyone holding it can GET the artifact's bytes from until {@code expiry} (at most 7 days)
     * has passed. It does not check that the artifact exists; fetching a missing one gives HTTP 404. The
     * answer carries {@code Content-Disposition: attachment} (S3's response-content-disposition).
     */
    public String presignedGetUrl(String sha256, Duration expiry) {
        String key = ContentKeys.contentKey(ContentKeys.normalize(sha256));
        long seconds = expiry.toSeconds();
        if (seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
            throw new IllegalArgumentException("presigned URL expiry " + expiry + " is out of range: S3 allows 1 second"
                    + " to 7 days");
        }
        // signed into the URL: storage answers "download this", so a browser never renders uploaded bytes as a page
        Map<String, String> download = Map.of("response-content-disposition",
                "attachment; filename=\"" + ContentKeys.normalize(sha256) + "\"");
        return call("presign GET", key, () -> client.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder()
                .method(Http.Method.GET).bucket(bucket).object(key).expiry((int) seconds).extraQueryParams(download)
                .build()));
    }

    /**
     * Replaces the log object at {@code logs/<name>} with {@code bytes}. Logs are the one kind of object that
     * is not content-addressed: a running task's log grows, and readers tail it under a name they can derive
     * (run, task, try). A reader sees either the old or the new whole object, never a partial one.
     */
    public void putLog(String name, byte[] bytes, String mediaType) {
        requireMediaType(mediaType);
        String key = logKey(name);
        call("write log", key, () -> client.putObject(PutObjectArgs.builder().bucket(bucket).object(key)
                .stream(new java.io.ByteArrayInputStream(bytes), (long) bytes.length, -1L).contentType(mediaType).build()));
    }

    /**
     * The log object at {@code logs/<name>} from byte {@code offset} on (empty bytes when the offset is at or
     * past its end), with its whole size; empty when no such log was written.
     */
    public Optional<LogSlice> readLog(String name, long offset) throws IOException {
        if (offset < 0) {
            throw new IllegalArgumentException("log offset " + offset + " is negative; start at 0");
        }
        String key = logKey(name);
        long size;
        try {
            size = client.statObject(StatObjectArgs.builder().bucket(bucket).object(key).build()).size();
        } catch (MinioException e) {
            if (MinioErrors.isObjectNotFound(e)) {
                return Optional.empty();
            }
            throw MinioErrors.translate(e, "stat log", bucket, key);
        }
        if (offset >= size) {
            return Optional.of(new LogSlice(new byte[0], size));
        }
        try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).offset(offset).build())) {
            return Optional.of(new LogSlice(in.readAllBytes(), size));
        } catch (MinioException e) {
            if (MinioErrors.isObjectNotFound(e)) {
                return Optional.empty();
            }
            throw MinioErrors.translate(e, "read log", bucket, key);
        }
    }

    /** Bytes of a log from some offset, and the log's whole size at the time it was read. */
    public record LogSlice(byte[] bytes, long size) {
    }

    private static String logKey(String name) {
        if (name == null || name.isBlank() || name.startsWith("/") || name.contains("..") || name.contains("\\")) {
            throw new IllegalArgumentException("'" + name + "' is not a log name: use a relative path such as"
                    + " <run>/<task>/<try>.ndjson, without '..'");
        }
        return ContentKeys.LOG_PREFIX + name;
    }

    /** Closes the client if {@link #connect} made it. */
    @Override
    public void close() {
        if (!ownsClient) {
            return;
        }
        try {
            client.close();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "closing the S3 client for bucket " + bucket + " failed", e);
        }
    }

    String uri(String key) {
        return "s3://" + bucket + "/" + key;
    }

    private void upload(String tempKey, HashingInputStream hashing, String mediaType) throws IOException {
        try {
            // size -1 (unknown) with a fixed part size: a multipart upload holding one part in memory at a time
            client.putObject(PutObjectArgs.builder().bucket(bucket).object(tempKey)
                    .stream(hashing, -1L, PART_SIZE).contentType(mediaType).build());
        } catch (MinioException e) {
            if (hashing.sourceFailure() != null) {
                throw new IOException("reading the artifact to upload failed after " + hashing.count() + " bytes: "
                        + hashing.sourceFailure().getMessage() + "; nothing was stored", hashing.sourceFailure());
            }
            throw MinioErrors.translate(e, "upload", bucket, tempKey);
        }
    }

    private void publish(String tempKey, String key, long size, String mediaType) {
        SourceObject source = SourceObject.builder().bucket(bucket).object(tempKey).build();
        if (size > MAX_SINGLE_COPY) {
            call("publish (compose)", key, () -> client.composeObject(ComposeObjectArgs.builder().bucket(bucket).object(key)
                    .sources(List.of(source)).headers(Map.of("Content-Type", mediaType)).build()));
        } else {
            call("publish (copy)", key, () -> client.copyObject(CopyObjectArgs.builder().bucket(bucket).object(key)
                    .source(source).build()));
        }
    }

    private void removeTemp(String tempKey, Throwable failure) {
        try {
            client.removeObject(RemoveObjectArgs.builder().bucket(bucket).object(tempKey).build());
        } catch (MinioException | RuntimeException e) {
            if (failure != null) {
                failure.addSuppressed(e);
            } else {
                LOG.log(System.Logger.Level.WARNING, "could not delete temporary object s3://" + bucket + "/" + tempKey
                        + "; it holds no published data and can be deleted", e);
            }
        }
    }

    private RuntimeException notFoundOr(MinioException e, String operation, String sha256, String key) {
        if (MinioErrors.isObjectNotFound(e)) {
            return new ArtifactNotFoundException("artifact " + uri(key) + " does not exist in bucket '" + bucket
                    + "': it was never stored here or has been deleted", sha256);
        }
        return MinioErrors.translate(e, operation, bucket, key);
    }

    private static void requireMediaType(String mediaType) {
        if (mediaType == null || mediaType.isBlank() || MediaType.parse(mediaType) == null) {
            throw new IllegalArgumentException("media type '" + mediaType + "' is not a type/subtype such as"
                    + " application/octet-stream or application/x-onnx");
        }
    }

    private <T> T call(String operation, String key, MinioCall<T> call) {
        try {
            return call.run();
        } catch (MinioException e) {
            throw MinioErrors.translate(e, operation, bucket, key);
        }
    }

    @FunctionalInterface
    private interface MinioCall<T> {
        T run() throws MinioException;
    }
}
