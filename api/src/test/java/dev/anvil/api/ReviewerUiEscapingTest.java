package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What people type reaches the reviewer UI's pages as text, never as markup: a principal, a decision's
 * comment, the run error that quotes both, and an id in the path. The templates escape every value;
 * these pages are where those values show.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class ReviewerUiEscapingTest {
    static final String EVIL = "<script>alert('x')</script>";
    static final String ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;";

    @BeforeEach
    void signOut() {
        TestTokens.signOut();
    }

    @Test
    void aPrincipalAndACommentWithMarkupShowAsTextOnTheApprovalAndRunPages() {
        String reviewer = given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/json")
                .body(Map.of("principal", "rev" + EVIL, "roles", List.of("reviewer"))).post("/api/tokens")
                .then().statusCode(201).extract().path("token");
        String run = ApprovalResourceTest.startGatedRun(TestTokens.SUBMITTER);
        String approval = ApprovalResourceTest.awaitPendingApproval(run);

        UiForms.signedIn("/ui/approvals/" + approval, reviewer).redirects().follow(false)
                .formParam("comment", "wrong data " + EVIL).post("/ui/approvals/" + approval + "/reject")
                .then().statusCode(303);
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/" + approval).then().body("state", equalTo("rejected"))
                .body("decisions[0].comment", equalTo("wrong data " + EVIL));

        String page = given().cookie("anvil_token", reviewer).get("/ui/approvals/" + approval).then().statusCode(200)
                .extract().asString();
        assertThat(page).doesNotContain(EVIL)
                .contains("Signed in as <b data-testid=\"who\">rev" + ESCAPED + "</b>")
                .contains("<td>rev" + ESCAPED + "</td><td>reject</td><td>wrong data " + ESCAPED + "</td>");

        assertThat(PipelineResourceTest.awaitEnd(run).getString("run.error")).contains(EVIL);
        for (String path : List.of("/ui/runs", "/ui/runs/" + run)) {
            String html = given().cookie("anvil_token", reviewer).get(path).then().statusCode(200).extract().asString();
            assertThat(html).as(path).doesNotContain(EVIL).contains("wrong data " + ESCAPED);
        }
    }

    @Test
    void anIdFromThePathIsEchoedAsText() {
        String id = "x<img src=x onerror=alert('x')>"; // no slash: it stays one path segment
        String escaped = "x&lt;img src=x onerror=alert(&#39;x&#39;)&gt;";
        String html = given().cookie("anvil_token", TestTokens.REVIEWER).get("/ui/runs/{id}", id)
                .then().statusCode(404).extract().asString();
        assertThat(html).doesNotContain(id).contains("No run with id <code>" + escaped + "</code>.")
                .contains("<title>Run not found · Anvil</title>");
        html = given().cookie("anvil_token", TestTokens.REVIEWER).get("/ui/approvals/{id}", id)
                .then().statusCode(404).extract().asString();
        assertThat(html).doesNotContain(id).contains("No approval with id <code>" + escaped + "</code>.");
    }
}
