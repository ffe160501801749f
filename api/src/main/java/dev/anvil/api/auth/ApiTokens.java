package dev.anvil.api.auth;

import dev.anvil.db.ApiToken;
import dev.anvil.db.ApiTokenStore;
import io.quarkus.cache.CacheInvalidate;
import io.quarkus.cache.CacheKey;
import io.quarkus.cache.CacheResult;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.inject.Provider;

/**
 * Active API tokens by their SHA-256, cached in {@value #CACHE} for {@code anvil.auth.token-cache-ttl}
 * (application.properties), so that a client calling many times a second (an inference client) costs one
 * PostgreSQL round trip per token and TTL, not one per request. Only active tokens are cached: an unknown or
 * revoked one throws, and a thrown exception is never cached, so random tokens cannot fill the cache. A
 * revoke here drops the token at once ({@link #forget}); other processes trust it for at most the TTL.
 */
@ApplicationScoped
public class ApiTokens {
    static final String CACHE = "api-tokens";

    /** No active token has this hash. */
    public static final class Unknown extends RuntimeException {
        Unknown() {
            super("the API token is unknown or revoked", null, false, false);
        }
    }

    @Inject Provider<ApiTokenStore> store;

    /** @throws Unknown when no active token has this hash */
    @CacheResult(cacheName = CACHE)
    public ApiToken active(@CacheKey String tokenSha256) {
        return store.get().find(tokenSha256).filter(ApiToken::active).orElseThrow(Unknown::new);
    }

    /** Drops a (revoked) token from this process's cache. */
    @CacheInvalidate(cacheName = CACHE)
    public void forget(@CacheKey String tokenSha256) {
        // the interceptor does the work
    }
}
