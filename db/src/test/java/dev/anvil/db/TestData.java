package dev.anvil.db;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Small builders for rows that most store tests need as a starting point. */
final class TestData {

    private TestData() {
    }

    /** The real SHA-256 of text, so test artifacts look like the ones activities store. */
    static String sha256Of(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JVM ships SHA-256", e);
        }
    }

    /** An artifact whose bytes are name, stored under s3://anvil/name. */
    static Artifact artifact(ArtifactStore store, String name, Long createdByTaskRun) {
        return store.insert(sha256Of(name), "s3://anvil/" + name, name.length(), "application/octet-stream",
                createdByTaskRun);
    }
}
