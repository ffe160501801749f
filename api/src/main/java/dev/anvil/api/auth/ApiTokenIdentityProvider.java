package dev.anvil.api.auth;

import dev.anvil.db.ApiToken;
import dev.anvil.db.ApiTokenStore;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.HashSet;

/** An active API token's principal and roles (looked up by its SHA-256 through {@link ApiTokens}). */
@ApplicationScoped
public class ApiTokenIdentityProvider implements IdentityProvider<ApiTokenAuthenticationRequest> {
    @Inject ApiTokens tokens;

    @Override
    public Class<ApiTokenAuthenticationRequest> getRequestType() {
        return ApiTokenAuthenticationRequest.class;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(ApiTokenAuthenticationRequest request,
            AuthenticationRequestContext context) {
        return context.runBlocking(() -> {
            ApiToken row;
            try {
                row = tokens.active(ApiTokenStore.hash(request.token()));
            } catch (ApiTokens.Unknown e) {
                throw new AuthenticationFailedException("the API token is unknown or revoked; ask an admin for a new one");
            }
            return QuarkusSecurityIdentity.builder()
                    .setPrincipal(new QuarkusPrincipal(row.principal()))
                    .addRoles(new HashSet<>(row.roles()))
                    .build();
        });
    }
}
