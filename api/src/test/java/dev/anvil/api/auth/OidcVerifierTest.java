package dev.anvil.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.ApiTokenStore;
import dev.anvil.devstack.Ports;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.NumericDate;
import org.jose4j.keys.HmacKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bearer JWTs checked against a real (test) OIDC provider over HTTP: discovery, JWKS, claims, roles. */
class OidcVerifierTest {
    static TestOidcProvider provider;
    static OidcVerifier verifier;

    @BeforeAll
    static void start() throws Exception {
        provider = TestOidcProvider.start();
        verifier = verifier(provider.issuer(), Optional.of("anvil"));
    }

    @AfterAll
    static void stop() {
        provider.close();
    }

    static OidcVerifier verifier(String issuer, Optional<String> audience) {
        return new OidcVerifier(new OidcVerifier.Settings(issuer, audience, "realm_access.roles", Optional.of("anvil-"),
                "preferred_username", Duration.ofSeconds(30)));
    }

    @Test
    void aValidTokenNamesItsUserAndTheAnvilRolesAmongTheProvidersRoles() {
        Caller caller = verifier.verify(provider.token("alice", List.of("anvil-reviewer", "offline_access", "uma_authorization")));
        assertThat(caller.principal()).isEqualTo("alice");
        assertThat(caller.roles()).containsExactly(Role.REVIEWER);
        assertThat(caller.fromOidc()).isTrue();

        Caller both = verifier.verify(provider.token("bob", List.of("ANVIL-Submitter", "anvil-admin", "reviewer")));
        assertThat(both.roles()).containsExactlyInAnyOrder(Role.SUBMITTER, Role.ADMIN); // "reviewer" lacks the prefix
    }

    @Test
    void withoutThePreferredUsernameTheSubjectNamesTheCaller() {
        Caller caller = verifier.verify(provider.token(c -> c.setSubject("f81d4fae-7dec")));
        assertThat(caller.principal()).isEqualTo("f81d4fae-7dec");
        assertThat(caller.roles()).isEmpty();
    }

    @Test
    void anExpiredTokenIsRefusedSayingSo() {
        String token = provider.token(c -> c.setExpirationTime(NumericDate.fromSeconds(NumericDate.now().getValue() - 120)));
        assertRefused(token, 401, "the bearer JWT is refused: it has expired");
    }

    @Test
    void aTokenFromAnotherIssuerOrForAnotherAudienceIsRefused() {
        assertRefused(provider.token(c -> c.setIssuer("https://elsewhere.example.com/realms/ml")), 401,
                "it was not issued by " + provider.issuer());
        assertRefused(provider.token(c -> c.setAudience("another-client")), 401, "its audience is not 'anvil'");
    }

    @Test
    void aTokenSignedByAKeyTheProviderDoesNotPublishIsRefused() {
        String forged = TestOidcProvider.sign(provider.claims(c -> c.setClaim("preferred_username", "mallory")),
                TestOidcProvider.newKey());
        assertRefused(forged, 401, "its signature does not verify with the provider's keys");
    }

    @Test
    void aSymmetricOrUnsignedTokenIsRefused() throws Exception {
        JsonWebSignature hs = new JsonWebSignature();
        hs.setPayload(provider.claims(c -> {}).toJson());
        hs.setAlgorithmHeaderValue(AlgorithmIdentifiers.HMAC_SHA256);
        hs.setKey(new HmacKey("a-shared-secret-of-at-least-32-bytes!!".getBytes(StandardCharsets.UTF_8)));
        assertRefused(hs.getCompactSerialization(), 401, "it is signed with 'HS256', not an asymmetric algorithm");

        JsonWebSignature none = new JsonWebSignature();
        none.setPayload(provider.claims(c -> {}).toJson());
        none.setAlgorithmHeaderValue(AlgorithmIdentifiers.NONE);
        none.setAlgorithmConstraints(org.jose4j.jwa.AlgorithmConstraints.NO_CONSTRAINTS);
        assertRefused(none.getCompactSerialization(), 401, "it is signed with 'none'");
    }

    @Test
    void garbageThatLooksLikeAJwtIsRefusedNotAnError() {
        assertRefused("eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", 401, "the bearer JWT is refused");
    }

    @Test
    void aRotatedKeyIsFetchedWhenATokenNamesIt() throws Exception {
        try (TestOidcProvider rotating = TestOidcProvider.start()) {
            OidcVerifier v = verifier(rotating.issuer(), Optional.of("anvil"));
            v.verify(rotating.token("carol", List.of("anvil-submitter")));
            int before = rotating.jwksFetches();
            rotating.rotateKey();
            Thread.sleep(400); // the key resolver refetches the JWKS at most every 300 ms
            Caller caller = v.verify(rotating.token("carol", List.of("anvil-submitter")));
            assertThat(caller.roles()).containsExactly(Role.SUBMITTER);
            assertThat(rotating.jwksFetches()).isEqualTo(before + 1);
        }
    }

    @Test
    void anUnreachableProviderIsA503NamingItsDiscoveryDocument() {
        String issuer = "http://127.0.0.1:" + Ports.ephemeral() + "/realms/ml";
        assertThatThrownBy(() -> verifier(issuer, Optional.empty()).verify(provider.token("dave", List.of())))
                .isInstanceOfSatisfying(ProblemException.class, e -> {
                    assertThat(e.status()).isEqualTo(503);
                    assertThat(e.getMessage()).contains("OIDC provider " + issuer + " is unavailable")
                            .contains(issuer + "/.well-known/openid-configuration");
                });
    }

    @Test
    void aDiscoveryDocumentNamingAnotherIssuerIsAConfigurationErrorNamingBoth() {
        String configured = provider.issuer() + "/";
        assertThatThrownBy(() -> verifier(configured, Optional.empty()).verify(provider.token("erin", List.of())))
                .isInstanceOfSatisfying(ProblemException.class, e -> {
                    assertThat(e.status()).isEqualTo(503);
                    assertThat(e.getMessage()).contains("names the issuer '" + provider.issuer() + "'")
                            .contains("not the configured '" + configured + "'");
                });
    }

    @Test
    void apiTokensNeverLookLikeJwts() {
        for (int i = 0; i < 100; i++) {
            assertThat(OidcVerifier.looksLikeJwt(ApiTokenStore.newToken())).isFalse();
        }
        assertThat(OidcVerifier.looksLikeJwt(provider.token("frank", List.of()))).isTrue();
    }

    private static void assertRefused(String token, int status, String detail) {
        assertThatThrownBy(() -> verifier.verify(token)).isInstanceOfSatisfying(ProblemException.class, e -> {
            assertThat(e.status()).isEqualTo(status);
            assertThat(e.getMessage()).contains(detail);
        });
    }
}
