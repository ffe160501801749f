package dev.anvil.api;

import io.restassured.RestAssured;
import io.restassured.builder.RequestSpecBuilder;
import io.restassured.specification.RequestSpecification;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The demo users' tokens in API tests: {@link LocalStackResource} writes them to the demo tokens
 * file, and the application seeds them at start-up exactly as {@code ./anvil up} does.
 */
public final class TestTokens {
    public static final String ADMIN = "anvil_test-admin-token";
    public static final String SUBMITTER = "anvil_test-submitter-token";
    public static final String REVIEWER = "anvil_test-reviewer-token";
    public static final String VIEWER = "anvil_test-viewer-token";
    public static final String INVOKER = "anvil_test-invoker-token";

    private TestTokens() {
    }

    static Path writeFile() {
        try {
            Path file = Files.createTempDirectory("anvil-tokens-").resolve("demo-tokens");
            Files.writeString(file, "admin=" + ADMIN + "\nsubmitter=" + SUBMITTER + "\nreviewer=" + REVIEWER
                    + "\nviewer=" + VIEWER + "\ninvoker=" + INVOKER + "\n");
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every following request of this test class carries {@code token}. */
    public static void signInAs(String token) {
        RestAssured.requestSpecification = bearer(token);
    }

    public static void signOut() {
        RestAssured.requestSpecification = null;
    }

    public static RequestSpecification bearer(String token) {
        return new RequestSpecBuilder().addHeader("Authorization", "Bearer " + token).build();
    }
}
