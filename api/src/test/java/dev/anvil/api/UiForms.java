package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Posting the UI's forms as a browser does: open a page, then send its form with the page's form token. */
public final class UiForms {
    public static final String TOKEN_COOKIE = "anvil_csrf";
    public static final String TOKEN_FIELD = "csrf";
    private static final Pattern FIELD = Pattern.compile("name=\"" + TOKEN_FIELD + "\" value=\"([^\"]+)\"");

    private UiForms() {
    }

    /** A form post from {@code page}, opened by a browser holding {@code cookies} (the sign-in cookie, say). */
    public static RequestSpecification from(String page, Map<String, String> cookies) {
        Response opened = given().cookies(cookies).get(page);
        opened.then().statusCode(200);
        String cookie = opened.getCookie(TOKEN_COOKIE);
        Matcher field = FIELD.matcher(opened.asString());
        assertThat(cookie).as(page + " hands out a form token cookie").isNotBlank();
        assertThat(field.find()).as(page + " has a form carrying the form token").isTrue();
        assertThat(field.group(1)).isEqualTo(cookie);
        return given().cookies(cookies).cookie(TOKEN_COOKIE, cookie).contentType("application/x-www-form-urlencoded")
                .formParam(TOKEN_FIELD, field.group(1));
    }

    /** A form post from {@code page}, opened with the UI's sign-in cookie for {@code apiToken}. */
    public static RequestSpecification signedIn(String page, String apiToken) {
        return from(page, Map.of("anvil_token", apiToken));
    }
}
