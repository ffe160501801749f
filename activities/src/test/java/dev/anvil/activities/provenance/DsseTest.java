package dev.anvil.activities.provenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DSSE's pre-authentication encoding, signing and verifying, and the provenance key's files. */
class DsseTest {
    private static final SigningKey KEY = SigningKey.generate();

    @TempDir
    Path dir;

    @Test
    void paeIsTheSpecificationsEncoding() {
        // the DSSE specification's own example (protocol.md)
        assertThat(new String(Dsse.pae("http://example.com/HelloWorld", "hello world".getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.UTF_8)).isEqualTo("DSSEv1 29 http://example.com/HelloWorld 11 hello world");
        // lengths count bytes, not characters
        assertThat(new String(Dsse.pae("t", "é".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8))
                .isEqualTo("DSSEv1 1 t 2 é");
        assertThat(Dsse.pae("", new byte[0])).isEqualTo("DSSEv1 0  0 ".getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void aSignedEnvelopeVerifiesWithItsKeyOnly() {
        byte[] payload = "{\"_type\":\"https://in-toto.io/Statement/v1\"}".getBytes(StandardCharsets.UTF_8);
        Dsse.Envelope envelope = Dsse.sign(Dsse.IN_TOTO_PAYLOAD_TYPE, payload, KEY);

        assertThat(envelope.payloadBytes()).isEqualTo(payload);
        assertThat(envelope.signatures()).singleElement().extracting(Dsse.Signature::keyid).isEqualTo(KEY.keyId());
        assertThat(Dsse.verify(envelope, KEY.publicKey(), KEY.keyId())).isTrue();

        SigningKey other = SigningKey.generate();
        assertThat(Dsse.verify(envelope, other.publicKey(), KEY.keyId())).as("another key").isFalse();
        assertThat(Dsse.verify(envelope, KEY.publicKey(), other.keyId())).as("another key id").isFalse();
    }

    @Test
    void aTamperedEnvelopeDoesNotVerify() {
        byte[] payload = "{\"subject\":[{\"digest\":{\"sha256\":\"aa\"}}]}".getBytes(StandardCharsets.UTF_8);
        Dsse.Envelope envelope = Dsse.sign(Dsse.IN_TOTO_PAYLOAD_TYPE, payload, KEY);
        String forged = Base64.getEncoder().encodeToString(
                "{\"subject\":[{\"digest\":{\"sha256\":\"bb\"}}]}".getBytes(StandardCharsets.UTF_8));

        assertThat(Dsse.verify(new Dsse.Envelope(envelope.payloadType(), forged, envelope.signatures()),
                KEY.publicKey(), KEY.keyId())).as("payload changed").isFalse();
        assertThat(Dsse.verify(new Dsse.Envelope("application/json", envelope.payload(), envelope.signatures()),
                KEY.publicKey(), KEY.keyId())).as("payload type changed").isFalse();
        assertThat(Dsse.verify(new Dsse.Envelope(envelope.payloadType(), envelope.payload(),
                List.of(new Dsse.Signature(KEY.keyId(), "not base64!"))), KEY.publicKey(), KEY.keyId()))
                .as("malformed signature").isFalse();
        assertThat(Dsse.verify(new Dsse.Envelope(envelope.payloadType(), "%%%", envelope.signatures()),
                KEY.publicKey(), KEY.keyId())).as("malformed payload").isFalse();
    }

    @Test
    void aGeneratedKeyIsWrittenOwnerOnlyAndReadBackWithTheSamePublicKey() throws Exception {
        Path file = dir.resolve(".anvil/provenance-key.pem");
        SigningKey generated = SigningKey.readOrGenerate(file);

        assertThat(Files.readString(file)).startsWith("-----BEGIN PRIVATE KEY-----\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        SigningKey read = SigningKey.readOrGenerate(file);
        assertThat(read.publicKey()).as("derived from the private key alone").isEqualTo(generated.publicKey());
        assertThat(read.keyId()).isEqualTo(generated.keyId());
        Dsse.Envelope envelope = Dsse.sign(Dsse.IN_TOTO_PAYLOAD_TYPE, new byte[] {1, 2, 3}, read);
        assertThat(Dsse.verify(envelope, SigningKey.publicKeyFromPem(generated.publicKeyPem()), generated.keyId())).isTrue();
    }

    /** A test-only key made with {@code openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256}. */
    private static final String OPENSSL_KEY = """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjxp38VSvTzoKCeS0
            9xAO/3DzbDh/ZLQpDMMr0F2t5GyhRANCAAQzD6I042S0oRJ6fhCTCvdBDaygMnvj
            PEwJBbog57le649T1uNe3R5nxU8U5wV8qiukqwWH+LhrRD+a3CmYgtiC
            -----END PRIVATE KEY-----
            """;
    /** Its public key, from {@code openssl pkey -in key.pem -pubout}. */
    private static final String OPENSSL_PUBLIC_KEY = """
            -----BEGIN PUBLIC KEY-----
            MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMw+iNONktKESen4Qkwr3QQ2soDJ7
            4zxMCQW6IOe5XuuPU9bjXt0eZ8VPFOcFfKorpKsFh/i4a0Q/mtwpmILYgg==
            -----END PUBLIC KEY-----
            """;

    @Test
    void anOpensslKeyIsReadWithThePublicKeyOpensslDerives() {
        SigningKey key = SigningKey.fromPem(OPENSSL_KEY, "key.pem");
        assertThat(key.publicKeyPem()).isEqualTo(OPENSSL_PUBLIC_KEY);
        assertThat(Dsse.verify(Dsse.sign("t", new byte[] {7}, key), SigningKey.publicKeyFromPem(OPENSSL_PUBLIC_KEY),
                key.keyId())).isTrue();
    }

    @Test
    void keysThatAreNotPkcs8P256AreRefusedSayingWhatToDo() throws Exception {
        assertThatThrownBy(() -> SigningKey.fromPem("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
                "ANVIL_PROVENANCE_KEY")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ANVIL_PROVENANCE_KEY is not a PKCS#8 PEM").hasMessageContaining("openssl pkcs8 -topk8");
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp384r1"));
        String p384 = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(generator.generateKeyPair().getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        assertThatThrownBy(() -> SigningKey.fromPem(p384, "key.pem")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("another curve").hasMessageContaining("P-256");
        assertThatThrownBy(() -> SigningKey.read(dir.resolve("missing.pem"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not exist");
    }
}
