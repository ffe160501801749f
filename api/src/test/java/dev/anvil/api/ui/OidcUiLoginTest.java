package dev.anvil.api.ui;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.api.UiForms;
import dev.anvil.api.auth.TestOidcProvider;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.Cookie;
import io.restassured.response.Response;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.jose4j.jwt.NumericDate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reviewer UI's single sign-on (quarkus-oidc's web-app tenant): authorization code with PKCE against a
 * test OIDC provider over real HTTP, each step as a browser would take it (redirects followed by hand, cookies
 * carried along).
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
        Cookie session = callback.getDetailedCookie(SESSION_COOKIE);
        assertThat(session.getValue()).isNotBlank();
        assertThat(session.isHttpOnly()).isTrue();
        assertThat(session.getSameSite()).isEqualToIgnoringCase("Lax");

        given().cookie(SESSION_COOKIE, session.getValue()).get("/ui/approvals").then().statusCode(200)
                .body(containsString("rita"));
        // signing out ends the single sign-on session too
        UiForms.from("/ui/approvals", Map.of(SESSION_COOKIE, session.getValue())).redirects().follow(false)
                .post("/ui/logout")
                .then().statusCode(303).header("Location", containsString("/ui/login"));
    }

    @Test
    void anAnswerForAnotherSignInIsRefusedAndTheCodeIsNeverSpent() throws Exception {
        provider.signInAs("mallory", List.of("anvil-reviewer"));
        Response start = given().redirects().follow(false).get("/ui/login/oidc");
        URI back = followProvider(start.getHeader("Location"));
        // the same answer, but with a pending sign-in of another browser (another state)
        Response otherBrowser = given().redirects().follow(false).get("/ui/login/oidc");
        assertRefused(given().cookies(otherBrowser.getCookies()).urlEncodingEnabled(false).redirects().follow(false)
                .get(pathAndQuery(back)), "does not belong to a sign-in this browser started");
        // no pending sign-in at all (cookie expired)
        assertRefused(given().urlEncodingEnabled(false).redirects().follow(false).get(pathAndQuery(back)),
                "took too long or was started in another browser");
        // the code was never traded: the browser that started the sign-in still completes it
        given().cookies(start.getCookies()).urlEncodingEnabled(false).get(pathAndQuery(back))
                .then().statusCode(200).body(containsString("Signed in as <strong>mallory</strong>"));
    }

    @Test
    void aDeclinedSignInAndAReusedCodeSayWhatHappened() throws Exception {
        provider.signInAs(null, List.of());
        Response start = given().redirects().follow(false).get("/ui/login/oidc");
        URI back = followProvider(start.getHeader("Location"));
        Response declined = given().cookies(start.getCookies()).urlEncodingEnabled(false).redirects().follow(false)
                .get(pathAndQuery(back));
        declined.then().statusCode(302);
        assertThat(declined.getDetailedCookies().asList()).anySatisfy(c -> {
            assertThat(c.getName()).startsWith("q_auth_anvil-ui"); // the pending sign-in is cleared
            assertThat(c.getMaxAge()).isZero();
        });
        given().urlEncodingEnabled(false).get(pathAndQuery(URI.create(declined.getHeader("Location"))))
                .then().statusCode(401)
                .body(containsString("the provider did not sign you in: access_denied (the user declined)"));

        provider.signInAs("sam", List.of("anvil-submitter"));
        Response again = given().redirects().follow(false).get("/ui/login/oidc");
        URI answer = followProvider(again.getHeader("Location"));
        given().cookies(again.getCookies()).urlEncodingEnabled(false).get(pathAndQuery(answer)).then().statusCode(200);
        assertRefused(given().cookies(again.getCookies()).urlEncodingEnabled(false).redirects().follow(false)
                .get(pathAndQuery(answer)), "the provider refused the authorization code: invalid_grant (unknown or used code)");
    }

    @Test
    void aSessionCookieThatDoesNotCheckOutCountsAsSignedOut() {
        given().cookie(SESSION_COOKIE, "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..bm90.YSBzZXNzaW9u.dGFn")
                .redirects().follow(false).get("/ui/approvals")
                .then().statusCode(303).header("Location", containsString("/ui/login"));
        // an expired single-sign-on access token in the API-token cookie is no session either
        String expired = provider.token(c -> {
            c.setClaim("preferred_username", "rita");
            c.setExpirationTime(NumericDate.fromSeconds(NumericDate.now().getValue() - 300));
        });
        given().cookie("anvil_token", expired).redirects().follow(false).get("/ui/approvals")
                .then().statusCode(303).header("Location", containsString("/ui/login"));
    }

    /** quarkus-oidc's session cookie for the UI's tenant. */
    static final String SESSION_COOKIE = "q_session_anvil-ui";

    /** A refused sign-in goes to the sign-in page, which shows why (401). */
    private static void assertRefused(Response response, String why) {
        response.then().statusCode(303);
        String location = response.getHeader("Location");
        assertThat(location).contains("/ui/login?error=");
        given().urlEncodingEnabled(false).get(URI.create(location).getRawPath() + "?" + URI.create(location).getRawQuery())
                .then().statusCode(401).body(containsString(why));
    }

    /** The whole dance: Anvil → provider (signs in at once) → Anvil's callback with the pending-sign-in cookie. */
    private Response signIn() throws Exception {
        Response start = given().redirects().follow(false).get("/ui/login/oidc");
        start.then().statusCode(302);
        String authorize = start.getHeader("Location");
        assertThat(authorize).startsWith(provider.issuer() + "/protocol/openid-connect/auth?")
                .contains("code_challenge_method=S256").contains("client_id=" + TestOidcProvider.CLIENT_ID);
        assertThat(start.getDetailedCookies().asList()).anySatisfy(c -> {
            assertThat(c.getName()).startsWith("q_auth_anvil-ui");
            assertThat(c.isHttpOnly()).isTrue();
        });
        URI back = followProvider(authorize);
        return given().cookies(start.getCookies()).urlEncodingEnabled(false).get(pathAndQuery(back));
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
