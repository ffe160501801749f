package dev.anvil.api.auth;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jwk.RsaJwkGenerator;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.lang.JoseException;

/**
 * A minimal OpenID Connect provider for tests, speaking the parts Anvil uses over real HTTP: the
 * discovery document and the JWKS. It signs tokens with its current RSA key and can rotate to a new one.
 */
public final class TestOidcProvider implements AutoCloseable {
    private static TestOidcProvider shared;

    private final HttpServer server;
    private final String issuer;
    private volatile RsaJsonWebKey key;
    private final AtomicInteger jwksFetches = new AtomicInteger();

    private TestOidcProvider() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        issuer = "http://127.0.0.1:" + server.getAddress().getPort() + "/realms/ml";
        key = newKey();
        server.createContext("/realms/ml/.well-known/openid-configuration", ex -> send(ex,
                "{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/protocol/openid-connect/certs\"}"));
        server.createContext("/realms/ml/protocol/openid-connect/certs", ex -> {
            jwksFetches.incrementAndGet();
            send(ex, new JsonWebKeySet(key).toJson());
        });
        server.start();
    }

    /** One provider for the whole test JVM (the application under test is configured with it). */
    public static synchronized TestOidcProvider shared() {
        if (shared == null) {
            try {
                shared = new TestOidcProvider();
            } catch (IOException e) {
                throw new IllegalStateException("cannot start the test OIDC provider", e);
            }
        }
        return shared;
    }

    public static TestOidcProvider start() throws IOException {
        return new TestOidcProvider();
    }

    public String issuer() {
        return issuer;
    }

    public int jwksFetches() {
        return jwksFetches.get();
    }

    /** A new signing key with a new key id; tokens signed before keep the old one's kid. */
    public void rotateKey() {
        key = newKey();
    }

    /** A token for {@code user} with Keycloak-style realm roles, audience "anvil", valid for five minutes. */
    public String token(String user, List<String> realmRoles) {
        return token(claims -> {
            claims.setSubject(UUID.nameUUIDFromBytes(user.getBytes(StandardCharsets.UTF_8)).toString());
            claims.setClaim("preferred_username", user);
            claims.setClaim("realm_access", java.util.Map.of("roles", realmRoles));
        });
    }

    /** A token with standard claims (issuer, audience "anvil", exp in five minutes) changed by {@code edit}. */
    public String token(Consumer<JwtClaims> edit) {
        return sign(claims(edit), key);
    }

    public JwtClaims claims(Consumer<JwtClaims> edit) {
        JwtClaims claims = new JwtClaims();
        claims.setIssuer(issuer);
        claims.setAudience("anvil");
        claims.setSubject("subject-1");
        claims.setIssuedAtToNow();
        claims.setExpirationTimeMinutesInTheFuture(5);
        edit.accept(claims);
        return claims;
    }

    public static String sign(JwtClaims claims, RsaJsonWebKey with) {
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setKey(with.getPrivateKey());
        jws.setKeyIdHeaderValue(with.getKeyId());
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
        try {
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }

    public static RsaJsonWebKey newKey() {
        try {
            RsaJsonWebKey k = RsaJwkGenerator.generateJwk(2048);
            k.setKeyId(UUID.randomUUID().toString());
            k.setUse("sig");
            k.setAlgorithm(AlgorithmIdentifiers.RSA_USING_SHA256);
            return k;
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void send(HttpExchange ex, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
