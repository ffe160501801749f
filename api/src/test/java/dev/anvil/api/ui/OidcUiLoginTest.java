package dev.anvil.api.ui;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.api.auth.TestOidcProvider;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.jose4j.jwt.NumericDate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reviewer UI's single sign-on: authorization code with PKCE against a test OIDC provider over real
 * HTTP, each step as a browser would take it (redirects followed by hand, cookies carried along).
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class OidcUiLoginTest {
    final TestOidcProvider provider = TestOidcProvider.shared();
    final HttpClient browser = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @BeforeEach
    void signOut() {
        TestTokens.signOut();
    }

    @Test
    void aReviewerSignsInThroughTheProviderAndSeesTheApprovals() throws Exception {
        given().get("/ui/login").then().statusCode(200)
                .body(containsString("href=\"/ui/login/oidc\""))
                .body(containsString("Sign in with single sign-on"));
        provider.signInAs("rita", List.of("anvil-reviewer"));

        Response callback = signIn();
        callback.then().statusCode(200)
                .body(containsString("Signed in as <strong>rita</strong>"))
                .body(containsString("http-equiv=\"refresh\" content=\"0; url=/ui/approvals\""));
        String session = callback.getCookie("anvil_token");
        assertThat(session).startsWith("eyJ");
        assertThat(callback.getDetailedCookie("anvil_token").isHttpOnly()).isTrue();
        assertThat(callback.getDetailedCookie("anvil_token").getSameSite()).isEqualToIgnoringCase("Strict");
        assertThat(callback.getDetailedCookie("anvil_oidc").getMaxAge()).isZero(); // the pending sign-in is cleared

        given().cookie("anvil_token", session).get("/ui/approvals").then().statusCode(200)
                .body(containsString("rita"));
    }

    @Test
    void anAnswerForAnotherSignInIsRefusedAndTheCodeIsNeverSpent() throws Exception {
        provider.signInAs("mallory", List.of("anvil-reviewer"));
        Response start = given().redirects().follow(false).get("/ui/login/oidc");
        URI back = followProvider(start.getHeader("Location"));
        // the same answer, but with a pending sign-in of another browser (another state)
        Response otherBrowser = given().redirects().follow(false).get("/ui/login/oidc");
        given().cookie("anvil_oidc", otherBrowser.getCookie("anvil_oidc")).urlEncodingEnabled(false).get(pathAndQuery(back))
                .then().statusCode(401)
                .body(containsString("does not belong to the sign-in this browser started"));
        // no pending sign-in at all (cookie expired)
        given().urlEncodingEnabled(false).get(pathAndQuery(back)).then().statusCode(401)
                .body(containsString("took too long or was started in another browser"));
    }

    @Test
    void aDeclinedSignInAndAReusedCodeSayWhatHappened() throws Exception {
        provider.signInAs(null, List.of());
        Response start = given().redirects().follow(false).get("/ui/login/oidc");
        URI back = followProvider(start.getHeader("Location"));
        given().cookie("anvil_oidc", start.getCookie("anvil_oidc")).urlEncodingEnabled(false).get(pathAndQuery(back))
                .then().statusCode(401)
                .body(containsString("the provider did not sign you in: access_denied (the user declined)"));

        provider.signInAs("sam", List.of("anvil-submitter"));
        Response again = given().redirects().follow(false).get("/ui/login/oidc");
        URI answer = followProvider(again.getHeader("Location"));
        given().cookie("anvil_oidc", again.getCookie("anvil_oidc")).urlEncodingEnabled(false).get(pathAndQuery(answer)).then().statusCode(200);
        given().cookie("anvil_oidc", again.getCookie("anvil_oidc")).urlEncodingEnabled(false).get(pathAndQuery(answer))
                .then().statusCode(401)
                .body(containsString("the provider refused the authorization code: invalid_grant (unknown or used code)"));
    }

    @Test
    void anExpiredSingleSignOnCookieCountsAsSignedOut() {
        String expired = provider.token(c -> {
            c.setClaim("preferred_username", "rita");
            c.setExpirationTime(NumericDate.fromSeconds(NumericDate.now().getValue() - 300));
        });
        given().cookie("anvil_token", expired).redirects().follow(false).get("/ui/approvals")
                .then().statusCode(303).header("Location", containsString("/ui/login"));
    }

    /** The whole dance: Anvil → provider (signs in at once) → Anvil's callback with the pending-sign-in cookie. */
    private Response signIn() throws Exception {
        Response start = given().redirects().follow(false).get("/ui/login/oidc");
        start.then().statusCode(303);
        String authorize = start.getHeader("Location");
        assertThat(authorize).startsWith(provider.issuer() + "/protocol/openid-connect/auth?")
                .contains("code_challenge_method=S256").contains("client_id=" + TestOidcProvider.CLIENT_ID);
        assertThat(start.getDetailedCookie("anvil_oidc").getSameSite()).isEqualToIgnoringCase("Lax");
        URI back = followProvider(authorize);
        return given().cookie("anvil_oidc", start.getCookie("anvil_oidc")).urlEncodingEnabled(false).get(pathAndQuery(back));
    }

    private URI followProvider(String authorize) throws Exception {
        HttpResponse<Void> hop = browser.send(HttpRequest.newBuilder(URI.create(authorize)).GET().build(),
                HttpResponse.BodyHandlers.discarding());
        assertThat(hop.statusCode()).isEqualTo(302);
        URI back = URI.create(hop.headers().firstValue("Location").orElseThrow());
        assertThat(back.getPath()).isEqualTo("/ui/login/oidc/callback");
        return back;
    }

    private static String pathAndQuery(URI uri) {
        return uri.getRawPath() + "?" + uri.getRawQuery();
    }
}
