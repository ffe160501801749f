package dev.anvil.api.auth;

import dev.anvil.api.config.AnvilConfig;
import dev.anvil.db.ApiToken;
import dev.anvil.db.ApiTokenStore;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import jakarta.inject.Singleton;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tokens found valid in the last {@code anvil.auth.token-cache-ttl}, so that a client calling many
 * times a second (an inference client) costs one PostgreSQL round trip per token and TTL, not one
 * per request. Only valid tokens are kept: an unknown token always goes to the database, so random
 * tokens cannot fill the cache. The price is that revoking a token takes effect after at most the
 * TTL; 0 turns the cache off.
 */
@Singleton
public class TokenCache {
    // more distinct valid tokens than this within one TTL is not a real workload: start over
    private static final int MAX_ENTRIES = 10_000;

    private record Entry(ApiToken token, long expiresAt) {
    }

    @Inject Provider<ApiTokenStore> tokens;
    @Inject AnvilConfig config;
    private final ConcurrentHashMap<String, Entry> valid = new ConcurrentHashMap<>();

    /** Drops a revoked token at once in this process (other processes keep it for at most the TTL). */
    public void forget(String tokenSha256) {
        valid.values().removeIf(e -> e.token().tokenSha256().equals(tokenSha256));
    }

    public Optional<ApiToken> authenticate(String token) {
        long ttl = config.auth().tokenCacheTtl().toNanos();
        if (ttl <= 0) {
            return tokens.get().authenticate(token);
        }
        long now = System.nanoTime();
        Entry hit = valid.get(token);
        if (hit != null && now - hit.expiresAt() < 0) {
            return Optional.of(hit.token());
        }
        Optional<ApiToken> row = tokens.get().authenticate(token);
        if (row.isPresent()) {
            if (valid.size() >= MAX_ENTRIES) {
                valid.clear();
            }
            valid.put(token, new Entry(row.get(), now + ttl));
        } else {
            valid.remove(token);
        }
        return row;
    }
}
