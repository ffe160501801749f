package dev.anvil.api.ui;

import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.ext.web.RoutingContext;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import java.util.regex.Pattern;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;
import org.jboss.resteasy.reactive.server.WithFormRead;
import org.jboss.resteasy.reactive.server.core.ResteasyReactiveRequestContext;
import org.jboss.resteasy.reactive.server.spi.ResteasyReactiveContainerRequestContext;

/**
 * Cross-site request forgery protection for the UI's forms (double-submit cookie): the pages hand the browser
 * a random token in the {@value FormToken#COOKIE} cookie (HttpOnly, SameSite=Strict, path /ui) and put the same
 * value in every form; a POST whose form field does not equal the cookie is refused with 403 before the
 * endpoint runs. Another site can make the browser send the cookie, but it can neither read it nor the page,
 * so it cannot fill in the field.
 *
 * <p>Not quarkus-rest-csrf: its filter runs for every REST endpoint, so it would read the form of any
 * form-typed POST to /api (curl's default Content-Type for an artifact upload, which is streamed, not read)
 * and answer refusals with an empty 400. This filter binds to the UI's resource only ({@link FormTokenChecked}).
 */
public class FormTokens {
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{43}"); // 32 random bytes, base64url
    private static final String ISSUED = FormTokens.class.getName() + ".issued";
    private static final SecureRandom RANDOM = new SecureRandom();

    @Inject FormToken token;

    @ServerRequestFilter
    @WithFormRead
    @FormTokenChecked
    public Response check(ResteasyReactiveContainerRequestContext request, RoutingContext routing) {
        Cookie cookie = routing.request().getCookie(FormToken.COOKIE);
        String held = cookie != null && TOKEN.matcher(cookie.getValue()).matches() ? cookie.getValue() : null;
        if (SAFE_METHODS.contains(request.getMethod())) {
            token.set(held != null ? held : issue(routing));
            return null;
        }
        Object sent = ((ResteasyReactiveRequestContext) request.getServerRequestContext())
                .getFormParameter(FormToken.FIELD, true, false);
        if (held == null || !(sent instanceof String s) || !sameToken(held, s)) {
            token.set(held != null ? held : issue(routing));
            return Response.status(Response.Status.FORBIDDEN).type(MediaType.TEXT_HTML_TYPE.withCharset("UTF-8"))
                    .entity(Pages.formRefused(new Frame("Form refused", null), held == null)).build();
        }
        token.set(held);
        return null;
    }

    @ServerResponseFilter
    @FormTokenChecked
    public void setCookie(RoutingContext routing) {
        String issued = routing.get(ISSUED);
        if (issued != null) {
            Cookie cookie = Cookie.cookie(FormToken.COOKIE, issued).setPath("/ui").setHttpOnly(true)
                    .setSameSite(CookieSameSite.STRICT).setSecure(routing.request().isSSL());
            routing.response().addCookie(cookie);
        }
    }

    private static String issue(RoutingContext routing) {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        String value = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        routing.put(ISSUED, value);
        return value;
    }

    private static boolean sameToken(String held, String sent) {
        return MessageDigest.isEqual(held.getBytes(StandardCharsets.UTF_8), sent.getBytes(StandardCharsets.UTF_8));
    }
}
