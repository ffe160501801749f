package dev.anvil.db;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The hash that links an audit_log row to the one before it:
 * {@code sha256(prevHash || canonical(row))}, lowercase hex. The canonical form writes every
 * field as {@code name=<UTF-8 byte length>:<value>} (or {@code name=null}) on its own line, so no
 * two different rows share a form however their values are chosen.
 */
public final class AuditChain {

    /** The prev_hash of the first chained row. */
    public static final String GENESIS = "0".repeat(64);

    private AuditChain() {
    }

    static String hash(String prevHash, AuditEntry row) {
        StringBuilder canonical = new StringBuilder();
        field(canonical, "id", Long.toString(row.id()));
        field(canonical, "at", row.at() == null ? null : row.at().toString());
        field(canonical, "actor", row.actor());
        field(canonical, "action", row.action());
        field(canonical, "subject", row.subject());
        field(canonical, "details", row.detailsJson());
        field(canonical, "idempotency_key", row.idempotencyKey());
        MessageDigest sha256 = sha256();
        sha256.update(prevHash.getBytes(StandardCharsets.US_ASCII));
        sha256.update(canonical.toString().getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(sha256.digest());
    }

    private static void field(StringBuilder out, String name, String value) {
        out.append(name).append('=');
        if (value == null) {
            out.append("null");
        } else {
            out.append(value.getBytes(StandardCharsets.UTF_8).length).append(':').append(value);
        }
        out.append('\n');
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256, which every Java SE platform must provide", e);
        }
    }
}
