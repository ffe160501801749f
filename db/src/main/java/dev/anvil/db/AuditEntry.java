package dev.anvil.db;

import java.time.Instant;

/** A row of audit_log. detailsJson is JSON text; idempotencyKey is null for writers that never retry. */
public record AuditEntry(
        long id,
        Instant at,
        String actor,
        String action,
        String subject,
        String detailsJson,
        String idempotencyKey) {
}
