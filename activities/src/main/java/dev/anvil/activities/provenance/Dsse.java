package dev.anvil.activities.provenance;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.Base64;
import java.util.List;

/**
 * Dead Simple Signing Envelope (DSSE v1): what is signed is the pre-authentication encoding of the
 * payload type and body, never the body alone, so a signature cannot be replayed on a payload read as
 * another type. Signatures are DER-encoded ECDSA over SHA-256, as {@code openssl dgst -sha256} makes them.
 */
public final class Dsse {
    /** The payload type of an in-toto Statement. */
    public static final String IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
    static final String ALGORITHM = "SHA256withECDSA";

    private Dsse() {}

    /** One signature: the signing key's id and the signature, base64. */
    public record Signature(String keyid, String sig) {}

    /** The envelope as JSON reads it: payload and signatures are base64 (standard alphabet, padded). */
    public record Envelope(String payloadType, String payload, List<Signature> signatures) {
        /** The payload's bytes. */
        public byte[] payloadBytes() {
            return Base64.getDecoder().decode(payload);
        }
    }

    /** {@code "DSSEv1" SP len(type) SP type SP len(body) SP body}, lengths in decimal bytes. */
    public static byte[] pae(String payloadType, byte[] body) {
        byte[] type = payloadType.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(type.length + body.length + 32);
        out.writeBytes(("DSSEv1 " + type.length + " ").getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(type);
        out.writeBytes((" " + body.length + " ").getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(body);
        return out.toByteArray();
    }

    /** Signs the payload with the key; the envelope carries one signature. */
    public static Envelope sign(String payloadType, byte[] payload, SigningKey key) {
        try {
            java.security.Signature ecdsa = java.security.Signature.getInstance(ALGORITHM);
            ecdsa.initSign(key.privateKey());
            ecdsa.update(pae(payloadType, payload));
            Signature signature = new Signature(key.keyId(), Base64.getEncoder().encodeToString(ecdsa.sign()));
            return new Envelope(payloadType, Base64.getEncoder().encodeToString(payload), List.of(signature));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with the provenance key " + key.keyId() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Whether a signature in the envelope is by this key ({@code keyid}) and verifies over the envelope's
     * payload type and payload. Malformed base64 or signatures verify as false.
     */
    public static boolean verify(Envelope envelope, PublicKey key, String keyId) {
        if (envelope == null || envelope.payloadType() == null || envelope.payload() == null
                || envelope.signatures() == null) {
            return false;
        }
        byte[] pae;
        try {
            pae = pae(envelope.payloadType(), envelope.payloadBytes());
        } catch (IllegalArgumentException e) {
            return false;
        }
        for (Signature s : envelope.signatures()) {
            if (s == null || !keyId.equals(s.keyid()) || s.sig() == null) {
                continue;
            }
            try {
                java.security.Signature ecdsa = java.security.Signature.getInstance(ALGORITHM);
                ecdsa.initVerify(key);
                ecdsa.update(pae);
                if (ecdsa.verify(Base64.getDecoder().decode(s.sig()))) {
                    return true;
                }
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                // a malformed signature is one that does not verify
            }
        }
        return false;
    }
}
