package dev.anvil.db;

/**
 * The outcome of walking the audit_log hash chain.
 *
 * @param valid         true when every chained row's hash and link hold
 * @param rows          the rows walked (up to and including the first bad one)
 * @param unchainedRows rows written before the chain began (V15), which carry no hash
 * @param firstBadId    the id of the first row whose hash or link does not hold, or null (also when
 *                      the chain holds but lacks a recorded head: rows were cut off its end)
 * @param reason        what is wrong, or null
 * @param lastHash      the hash of the last good row, the chain's head when it is valid; recording it
 *                      elsewhere lets a later check ({@link AuditLogStore#verify(String)}) notice rows
 *                      removed from the end, which no chain can show by itself
 */
public record AuditVerification(
        boolean valid,
        long rows,
        long unchainedRows,
        Long firstBadId,
        String reason,
        String lastHash) {
}
