package dev.anvil.storage;

import io.minio.errors.ErrorResponseException;
import io.minio.errors.MinioException;
import java.util.Optional;
import java.util.Set;

/**
 * The one place where MinIO client failures become the store's results: a missing object becomes
 * "not found" (callers turn it into {@code Optional.empty()} or {@link ArtifactNotFoundException}),
 * everything else an {@link ObjectStoreException} naming operation, bucket and key, marked retryable
 * unless the configuration is wrong.
 */
final class MinioErrors {
    private static final Set<String> OBJECT_NOT_FOUND = Set.of("NoSuchKey", "NoSuchObject", "ResourceNotFound");
    private static final Set<String> NOT_RETRYABLE = Set.of(
            "NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidBucketName",
            "AuthorizationHeaderMalformed", "InvalidRequest", "EntityTooLarge", "MethodNotAllowed");

    private MinioErrors() {}

    /** True when the failure says the object (not the bucket) does not exist. */
    static boolean isObjectNotFound(MinioException e) {
        return errorResponse(e).map(r -> {
            String code = r.errorResponse() == null ? null : r.errorResponse().code();
            if (code != null && OBJECT_NOT_FOUND.contains(code)) {
                return true;
            }
            // HEAD has no body to carry a code; a 404 for an object in an existing bucket means no such key
            return !"NoSuchBucket".equals(code) && r.response() != null && r.response().code() == 404;
        }).orElse(false);
    }

    /** True when creating the bucket failed because it exists already (another process won the race). */
    static boolean isBucketAlreadyOwned(MinioException e) {
        String code = code(e);
        return "BucketAlreadyOwnedByYou".equals(code) || "BucketAlreadyExists".equals(code);
    }

    static ObjectStoreException translate(MinioException e, String operation, String bucket, String key) {
        Optional<ErrorResponseException> response = errorResponse(e);
        String code = code(e);
        String where = operation + " s3://" + bucket + (key == null ? "" : "/" + key);
        String why = response.map(MinioErrors::describe).orElseGet(() -> rootMessage(e));
        return new ObjectStoreException(where + " failed: " + why + hint(code, bucket),
                code == null || !NOT_RETRYABLE.contains(code), e);
    }

    private static String describe(ErrorResponseException r) {
        String message = r.errorResponse() == null ? null : r.errorResponse().message();
        String code = r.errorResponse() == null ? null : r.errorResponse().code();
        int status = r.response() == null ? -1 : r.response().code();
        return (code == null ? "" : code + ": ") + (message == null ? "no message" : message)
                + (status < 0 ? "" : " (HTTP " + status + ")");
    }

    private static String hint(String code, String bucket) {
        if (code == null) {
            return " (is the S3 endpoint reachable? the call will be retried)";
        }
        switch (code) {
            case "NoSuchBucket":
                return ". Create the bucket '" + bucket + "' (ObjectStore.ensureBucket) or point ANVIL_S3_BUCKET at an existing one";
            case "AccessDenied":
            case "InvalidAccessKeyId":
            case "SignatureDoesNotMatch":
                return ". Check ANVIL_S3_ACCESS_KEY / ANVIL_S3_SECRET_KEY and the key's policy on bucket '" + bucket + "'";
            default:
                return "";
        }
    }

    private static String code(MinioException e) {
        return errorResponse(e).map(r -> r.errorResponse() == null ? null : r.errorResponse().code()).orElse(null);
    }

    private static Optional<ErrorResponseException> errorResponse(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ErrorResponseException) {
                return Optional.of((ErrorResponseException) t);
            }
        }
        return Optional.empty();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
