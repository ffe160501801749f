/**
 * The Quarkus application. The definition below heads the OpenAPI document that
 * quarkus-smallrye-openapi generates from the resources' annotations (/q/openapi, Swagger UI at
 * /q/swagger-ui); {@link dev.anvil.api.ApiDocumentFilter} gives every error response its problem
 * document, and {@code OpenApiDocumentTest} fails on an operation without a summary or without the
 * errors its code can answer with.
 */
@OpenAPIDefinition(
        info = @Info(title = "Anvil API", version = "0.1.0", description = """
                Anvil runs model pipelines on Temporal, keeps artifacts in S3-compatible storage \
                (content-addressed by sha256) and their lineage in PostgreSQL.

                Every error is an RFC 9457 problem document (application/problem+json); `errors` names \
                the offending fields.

                Reads (GET) and inference (/v2) are open; every other call needs a bearer token with the role \
                its operation names: 401 without a token, 403 with a token lacking the role. A token that is \
                sent but unknown, revoked or expired is refused with 401 on every operation, open ones \
                included, so a typo never turns into an anonymous call."""),
        tags = {
                @Tag(name = "pipelines", description = "Register pipeline specs, schedule and start runs"),
                @Tag(name = "runs", description = "Pipeline runs as PostgreSQL records them: list, read, retry, cancel"),
                @Tag(name = "artifacts", description = "Content-addressed artifacts (by sha256) and their lineage"),
                @Tag(name = "models", description = "Model inspection in a durable workflow"),
                @Tag(name = "approvals", description = "Human approval of gated runs"),
                @Tag(name = "endpoints", description = "The inference gateway's endpoints: stable version and canary"),
                @Tag(name = "rollouts", description = "Canary rollouts: start, watch and steer"),
                @Tag(name = "inference", description = "The Open Inference Protocol (KServe v2 REST) over the endpoints"),
                @Tag(name = "tokens", description = "Who am I, and API tokens (admins)"),
                @Tag(name = "audit", description = "Who did what to which subject")},
        components = @Components(
                securitySchemes = @SecurityScheme(securitySchemeName = ApiDocumentFilter.BEARER,
                        type = SecuritySchemeType.HTTP, scheme = "bearer",
                        description = "An Anvil API token (POST /api/tokens; ./anvil up prints demo tokens), or a JWT "
                                + "from the OIDC provider set by anvil.auth.oidc.issuer"),
                schemas = @Schema(name = ApiDocumentFilter.SCHEMA, implementation = Problem.class,
                        description = "An RFC 9457 problem document: what went wrong, naming the field and the fix")))
package dev.anvil.api;

import dev.anvil.api.problem.Problem;
import org.eclipse.microprofile.openapi.annotations.Components;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.info.Info;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
