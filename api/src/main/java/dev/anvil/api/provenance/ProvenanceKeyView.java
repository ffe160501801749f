package dev.anvil.api.provenance;

import dev.anvil.activities.provenance.SigningKey;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The public half of the provenance key, as verifiers need it. */
@Schema(description = "The key that signs provenance: verify DSSE signatures whose keyid matches with it")
public record ProvenanceKeyView(
        @Schema(description = "hex SHA-256 of the public key's DER (SubjectPublicKeyInfo); envelopes name it as keyid")
        String keyid,
        @Schema(description = "ECDSA over NIST P-256 with SHA-256; signatures are DER-encoded")
        String algorithm,
        @Schema(description = "the public key, PEM (-----BEGIN PUBLIC KEY-----)")
        String publicKey) {

    public static ProvenanceKeyView of(SigningKey key) {
        return new ProvenanceKeyView(key.keyId(), "ecdsa-p256-sha256", key.publicKeyPem());
    }
}
