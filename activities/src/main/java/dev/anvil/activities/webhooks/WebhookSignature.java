package dev.anvil.activities.webhooks;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How a delivery is signed: {@code Anvil-Signature: sha256=<hex>}, the HMAC-SHA256, keyed with the webhook's
 * secret, of {@code <Anvil-Timestamp>.<body>}. The timestamp is signed with the body, so a receiver that refuses
 * old timestamps refuses a replayed delivery: changing the timestamp breaks the signature.
 */
public final class WebhookSignature {
    public static final String SIGNATURE_HEADER = "Anvil-Signature";
    public static final String TIMESTAMP_HEADER = "Anvil-Timestamp";
    public static final String EVENT_HEADER = "Anvil-Event";
    public static final String DELIVERY_HEADER = "Anvil-Delivery";
    private static final String PREFIX = "sha256=";
    private static final SecureRandom RANDOM = new SecureRandom();

    private WebhookSignature() {
    }

    /** A new secret: 32 random bytes, hex, with a prefix that says what it is when it turns up in a log. */
    public static String newSecret() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return "whsec_" + HexFormat.of().formatHex(key);
    }

    /** The {@code Anvil-Signature} header value for a body sent at {@code timestamp} (Unix seconds). */
    public static String sign(String secret, long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
            return PREFIX + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }

    /**
     * What a receiver checks: the signature matches (compared in constant time) and the timestamp is within
     * {@code toleranceSeconds} of {@code nowSeconds}.
     */
    public static boolean verify(String secret, String timestampHeader, String signatureHeader, byte[] body,
                                 long nowSeconds, long toleranceSeconds) {
        if (timestampHeader == null || signatureHeader == null || !timestampHeader.matches("[0-9]{1,12}")) {
            return false;
        }
        long timestamp = Long.parseLong(timestampHeader);
        if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
            return false;
        }
        byte[] expected = sign(secret, timestamp, body).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, signatureHeader.getBytes(StandardCharsets.UTF_8));
    }
}
