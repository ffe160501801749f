package dev.anvil.api.ui;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.matchesPattern;

import dev.anvil.api.LocalStackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/** The top-level ui/ folder, copied into the jar by the api build: its assets are served at /ui/, its templates rendered as pages. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class UiStaticFilesTest {

    @Test
    void theChartScriptIsServedAsJavaScript() {
        given().get("/ui/charts.js").then().statusCode(200)
                .contentType(matchesPattern("(text|application)/javascript.*"))
                .body(containsString("export function renderAll"));
    }

    @Test
    void theStylesheetIsServedAsCss() {
        given().get("/ui/style.css").then().statusCode(200).contentType(containsString("text/css"))
                .body(containsString("figure.chart-figure"));
    }

    @Test
    void theScriptsTestsAndPackageFileStayOutOfTheJar() {
        given().get("/ui/test/charts.test.mjs").then().statusCode(404);
        given().get("/ui/package.json").then().statusCode(404);
    }

    @Test
    void thePageTemplatesAreRenderedNotServed() {
        given().get("/ui/templates/layout.html").then().statusCode(404);
        given().get("/ui/login").then().statusCode(200).contentType(containsString("text/html"))
                .body(containsString("<title>Sign in · Anvil</title>")).body(containsString("<label for=\"token\">API token</label>"));
    }
}
