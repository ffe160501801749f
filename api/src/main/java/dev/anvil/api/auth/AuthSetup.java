package dev.anvil.api.auth;

import io.quarkus.vertx.http.security.HttpSecurity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/** The web UI's single sign-on pages need a signed-in caller: quarkus-oidc's challenge sends the browser to the provider. */
@ApplicationScoped
public class AuthSetup {
    void singleSignOn(@Observes HttpSecurity security, OidcTenants oidc) {
        if (oidc.singleSignOn()) {
            security.path(OidcTenants.LOGIN_PATH, OidcTenants.CALLBACK_PATH).authenticated();
        }
    }
}
