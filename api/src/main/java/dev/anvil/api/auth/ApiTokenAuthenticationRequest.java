package dev.anvil.api.auth;

import io.quarkus.security.identity.request.BaseAuthenticationRequest;

/**
 * An Anvil API token as presented: in {@code Authorization: Bearer} ({@code fromHeader}) or in the web UI's
 * session cookie.
 */
public final class ApiTokenAuthenticationRequest extends BaseAuthenticationRequest {
    private final String token;
    private final boolean fromHeader;

    public ApiTokenAuthenticationRequest(String token, boolean fromHeader) {
        this.token = token;
        this.fromHeader = fromHeader;
    }

    public String token() {
        return token;
    }

    public boolean fromHeader() {
        return fromHeader;
    }
}
