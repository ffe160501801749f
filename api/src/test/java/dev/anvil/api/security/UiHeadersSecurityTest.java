package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Script injected into a page (or a page framed by another site) gets nowhere: every response under /ui
 * carries a Content-Security-Policy that allows script and style only from Anvil's own files, and the
 * pages need nothing more (no inline script or style; the chart data is a JSON data block).
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class UiHeadersSecurityTest {
    static final String CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
            + "form-action 'self'; frame-ancestors 'none'";
    static final Pattern INLINE_SCRIPT = Pattern.compile("<script(?![^>]*\\bsrc=)(?![^>]*type=\"application/json\")[^>]*>");
    static final Pattern INLINE_STYLE = Pattern.compile("<style|\\sstyle=|\\son[a-z]+=");

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    @Test
    void everyUiResponseCarriesTheStrictPolicy() {
        List<Response> responses = List.of(
                given().get("/ui/login"),
                given().cookie("anvil_token", TestTokens.REVIEWER).get("/ui/approvals"),
                given().cookie("anvil_token", TestTokens.REVIEWER).get("/ui/runs"),
                given().cookie("anvil_token", TestTokens.REVIEWER).get("/ui/models"),
                given().cookie("anvil_token", TestTokens.REVIEWER).get("/ui/endpoints"),
                given().cookie("anvil_token", TestTokens.REVIEWER).get("/ui/approvals/no-such-approval"),
                given().redirects().follow(false).get("/ui/approvals"),
                given().get("/ui/charts.js"),
                given().get("/ui/style.css"));
        for (Response r : responses) {
            r.then().header("Content-Security-Policy", equalTo(CSP))
                    .header("X-Frame-Options", equalTo("DENY"))
                    .header("Referrer-Policy", equalTo("same-origin"))
                    .header("X-Content-Type-Options", equalTo("nosniff"));
        }
    }

    @Test
    void thePagesNeedNoInlineScriptOrStyle() {
        for (String page : List.of("/ui/login", "/ui/approvals", "/ui/runs", "/ui/models", "/ui/endpoints")) {
            String html = given().cookie("anvil_token", TestTokens.REVIEWER).get(page).then().statusCode(200)
                    .extract().asString();
            assertThat(INLINE_SCRIPT.matcher(html).find()).as(page + " has an inline script").isFalse();
            assertThat(INLINE_STYLE.matcher(html).find()).as(page + " has an inline style or handler").isFalse();
        }
    }

    @Test
    void theApiIsNotCoveredByThePagePolicy() {
        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).get("/api/approvals").then().statusCode(200)
                .header("Content-Security-Policy", org.hamcrest.Matchers.nullValue());
    }
}
