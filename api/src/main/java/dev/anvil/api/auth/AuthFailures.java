package dev.anvil.api.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.api.problem.Problem;
import io.quarkus.oidc.OIDCException;
import io.quarkus.security.AuthenticationException;
import io.quarkus.security.AuthenticationRedirectException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Failed authentication, answered before any endpoint runs (Quarkus authenticates every request that carries
 * credentials): API callers get a 401 problem document naming why their token was refused (503 when the OIDC
 * provider cannot be reached); the web UI sends the browser to its sign-in page, saying why a single sign-on
 * failed.
 */
@ApplicationScoped
public class AuthFailures {
    @Inject ObjectMapper json;
    @Inject OidcTenants oidc;

    void register(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE).failureHandler(this::failed);
    }

    void failed(RoutingContext context) {
        Throwable failure = context.failure();
        boolean authentication = failure instanceof AuthenticationException
                && !(failure instanceof AuthenticationRedirectException);
        if (!(authentication || failure instanceof OIDCException) || context.response().ended()) {
            context.next();
            return;
        }
        String path = context.normalizedPath();
        if (path.startsWith("/ui/")) {
            String location = "/ui/login";
            if (path.equals(OidcTenants.CALLBACK_PATH)) {
                location += "?error=" + URLEncoder.encode("Single sign-on failed: " + JwtRefusal.ofSignIn(failure, json),
                        StandardCharsets.UTF_8);
            }
            context.response().setStatusCode(303).putHeader(HttpHeaders.LOCATION, location).end();
            return;
        }
        String header = context.request().getHeader(HttpHeaders.AUTHORIZATION);
        String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : "";
        if (path.equals("/api/v2") || path.startsWith("/api/v2/")) {
            airflow(context, token, failure);
            return;
        }
        if (ApiTokenAuthenticationMechanism.looksLikeJwt(token) && oidc.issuer().isPresent()) {
            String issuer = oidc.issuer().get();
            if (JwtRefusal.providerUnreachable(failure)) {
                send(context, 503, "Service Unavailable", "cannot check the bearer JWT: the OIDC provider " + issuer
                        + " is unavailable; its discovery document " + issuer.replaceAll("/+$", "")
                        + "/.well-known/openid-configuration or its signing keys could not be fetched");
                return;
            }
            send(context, 401, "Unauthorized", "the bearer JWT is refused: "
                    + JwtRefusal.of(token, failure, issuer, oidc.audience()) + SUFFIX);
            return;
        }
        String why = failure.getMessage() == null || failure.getMessage().isBlank()
                ? "the credentials are not valid" : failure.getMessage();
        send(context, 401, "Unauthorized", why + SUFFIX);
    }

    /**
     * The Airflow-compatible API answers as Airflow does: a refused bearer is 403 "Invalid JWT token", an
     * expired JWT 401 "Token Expired", with Airflow's {"detail": ...} body.
     */
    private void airflow(RoutingContext context, String token, Throwable failure) {
        boolean expired = ApiTokenAuthenticationMechanism.looksLikeJwt(token) && oidc.issuer().isPresent()
                && JwtRefusal.of(token, failure, oidc.issuer().get(), oidc.audience()).equals(JwtRefusal.EXPIRED);
        int status = expired ? 401 : 403;
        var response = context.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        if (expired) {
            response.putHeader("WWW-Authenticate", "Bearer");
        } else {
            response.headers().remove("WWW-Authenticate");
        }
        response.end(expired ? "{\"detail\":\"Token Expired\"}" : "{\"detail\":\"Invalid JWT token\"}");
    }

    private static final String SUFFIX = " (send 'Authorization: Bearer <token>'; ./anvil up prints the demo tokens)";

    private void send(RoutingContext context, int status, String title, String detail) {
        Problem body = new Problem("about:blank", title, status, detail, context.normalizedPath(), List.of());
        String text;
        try {
            text = json.writeValueAsString(body);
        } catch (IOException e) {
            context.next();
            return;
        }
        var response = context.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE);
        if (status == 401) {
            response.putHeader("WWW-Authenticate", "Bearer realm=\"anvil\"");
        } else {
            response.headers().remove("WWW-Authenticate");
        }
        response.end(text);
    }

    static JsonNode parse(ObjectMapper json, String text) {
        try {
            return json.readTree(text);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
