package dev.anvil.api.airflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.api.auth.ApiTokens;
import dev.anvil.db.ApiToken;
import dev.anvil.db.ApiTokenStore;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Airflow's token route ({@code POST /auth/token}, outside {@code /api/v2}, as Airflow's simple auth manager
 * serves it). Anvil users have no passwords: the username is the principal and the password one of that
 * principal's active API tokens (the demo users are {@code demo-admin}, {@code demo-submitter}, ... with the
 * tokens {@code ./anvil up} prints). The answer's {@code access_token} is that API token, which every
 * {@code /api/v2} endpoint takes as a bearer; an OIDC JWT is taken there too, without coming here.
 */
@Path(AirflowTokenResource.PATH)
@Produces(MediaType.APPLICATION_JSON)
@Blocking
@PermitAll
public class AirflowTokenResource {
    static final String PATH = "/auth/token";

    @Inject ApiTokens tokens;
    @Inject ObjectMapper json;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response fromJson(String body) {
        JsonNode node;
        try {
            node = body == null || body.isBlank() ? null : json.readTree(body);
        } catch (java.io.IOException e) {
            throw AirflowException.invalid("json_invalid", "JSON decode error", "body");
        }
        if (node == null || !node.isObject()) {
            throw AirflowException.invalid("model_attributes_type", "Input should be a valid dictionary or object",
                    "body");
        }
        Map<String, String> fields = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> fields.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : null));
        AirflowException.Validation errors = new AirflowException.Validation();
        node.fields().forEachRemaining(e -> {
            if (!e.getValue().isTextual() && List.of("username", "password").contains(e.getKey())) {
                errors.add("string_type", "Input should be a valid string", "body", e.getKey());
            }
        });
        errors.throwIfAny();
        return issue(fields);
    }

    @POST
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response fromForm(MultivaluedMap<String, String> form) {
        Map<String, String> fields = new LinkedHashMap<>();
        form.forEach((k, v) -> fields.put(k, v.isEmpty() ? "" : v.get(0)));
        return issue(fields);
    }

    /** Airflow serves this only when every user is an admin; Anvil never runs that way. */
    @GET
    public Response get() {
        throw new AirflowException(403, "Anvil has no all-admins mode: POST your username and API token to /auth/token");
    }

    private Response issue(Map<String, String> fields) {
        AirflowException.Validation errors = new AirflowException.Validation();
        for (String required : List.of("username", "password")) {
            if (!fields.containsKey(required)) {
                errors.add("missing", "Field required", "body", required);
            }
        }
        fields.keySet().stream().filter(k -> !List.of("username", "password").contains(k))
                .forEach(k -> errors.add("extra_forbidden", "Extra inputs are not permitted", "body", k));
        errors.throwIfAny();
        String username = fields.get("username");
        String password = fields.get("password");
        if (username == null || username.isBlank() || password == null || password.isBlank()) {
            throw AirflowException.badRequest("Username and password must be provided");
        }
        ApiToken token;
        try {
            token = tokens.active(ApiTokenStore.hash(password));
        } catch (ApiTokens.Unknown e) {
            throw new AirflowException(401, "Invalid credentials");
        }
        if (!token.principal().equals(username)) {
            throw new AirflowException(401, "Invalid credentials");
        }
        return Response.status(201).entity(Map.of("access_token", password)).build();
    }
}
