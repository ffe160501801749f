package dev.anvil.storage;

/** No object is stored under the artifact's content key. Not retryable: the bytes are not there. */
public class ArtifactNotFoundException extends RuntimeException {
    private final String sha256;

    public ArtifactNotFoundException(String message, String sha256) {
        super(message);
        this.sha256 = sha256;
    }

    public String sha256() {
        return sha256;
    }
}
