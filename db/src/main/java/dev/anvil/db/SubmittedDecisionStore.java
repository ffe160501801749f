package dev.anvil.db;

import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Decisions the API wrote for the run's workflow to confirm. The API {@link #submit}s one per
 * reviewer action and hands the workflow only its id; the workflow's activity {@link #settle}s it,
 * once: the decision is checked against the approval (under the approval's row lock, so concurrent
 * decisions count one after the other), recorded in approval_decisions when it passes, and the
 * submitted row marked accepted or refused in the same transaction.
 */
public final class SubmittedDecisionStore {

    /** {@link Settlement.Refused#type()}: no decision was submitted under that id. */
    public static final String UNKNOWN = "unknown";
    /** {@link Settlement.Refused#type()}: the decision was submitted for another approval. */
    public static final String OTHER_APPROVAL = "other-approval";
    /** {@link Settlement.Refused#type()}: the decision was already settled by another activity execution. */
    public static final String USED = "used";

    private static final String TABLE = "submitted_decisions";
    private static final String COLUMNS = "id, approval_id, principal, roles, decision, comment, state, refusal_type,"
            + " refusal, settled_by, submitted_at, settled_at";

    private final Jdbc jdbc;

    public SubmittedDecisionStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /** Why a decision may not be counted: a type the caller chose (it is kept and returned) and a sentence. */
    public record Refusal(String type, String reason) {}

    /** The rules a submitted decision must pass, given its approval (locked) and the decisions already counted on it. */
    @FunctionalInterface
    public interface Rules {
        Optional<Refusal> check(SubmittedDecision decision, Approval approval, List<ApprovalDecision> earlier);
    }

    /** What {@link #settle} came to. */
    public sealed interface Settlement {
        /** Counted: the decision and the approval after it. */
        record Accepted(SubmittedDecision decision, Approval approval) implements Settlement {}

        /** Not counted: {@code type} is one of this store's constants or a {@link Refusal}'s type. */
        record Refused(String type, String reason) implements Settlement {}
    }

    /** Writes a reviewer's decision on {@code approvalId} under a new random id, state submitted. */
    public SubmittedDecision submit(String approvalId, String principal, List<String> roles, String decision, String comment) {
        String op = "submit";
        Validate.notNull(TABLE, op, "approvalId", approvalId);
        Validate.notNull(TABLE, op, "principal", principal);
        Validate.notNull(TABLE, op, "roles", roles);
        Validate.oneOf(TABLE, op, "decision", decision, Approval.DECISIONS);
        // UUID.randomUUID draws from SecureRandom: the id cannot be guessed from others
        String id = UUID.randomUUID().toString();
        return jdbc.withConnection(TABLE, op, c -> {
            Array array = c.createArrayOf("text", roles.toArray());
            try {
                Jdbc.update(c, "INSERT INTO submitted_decisions (id, approval_id, principal, roles, decision, comment)"
                        + " VALUES (?, ?, ?, ?, ?, ?)", id, approvalId, principal, array, decision, comment);
            } catch (SQLException e) {
                if (Jdbc.violates(e, "submitted_decisions_approval_id_fkey")) {
                    throw DataAccessException.badInput(TABLE, op, "no approval with id '" + approvalId + "'", e);
                }
                throw e;
            }
            return find(c, id).orElseThrow();
        });
    }

    public Optional<SubmittedDecision> find(String id) {
        return jdbc.withConnection(TABLE, "find", c -> find(c, id));
    }

    /**
     * Settles decision {@code id} for approval {@code approvalId}, on behalf of {@code settledBy} (the
     * activity execution: its retries pass the same value and get the same answer). Refused, changing
     * nothing, when no decision has that id, when it belongs to another approval, or when another
     * execution settled it. Otherwise {@code rules} decide: a refusal is kept on the row; a pass records
     * the decision on the approval (its state follows, as in {@link ApprovalStore#recordDecision}).
     */
    public Settlement settle(String id, String approvalId, String settledBy, Rules rules) {
        String op = "settle";
        Validate.notNull(TABLE, op, "approvalId", approvalId);
        Validate.notNull(TABLE, op, "settledBy", settledBy);
        if (id == null) {
            return new Settlement.Refused(UNKNOWN, "no decision id: decide through Anvil's API");
        }
        return jdbc.inTransaction(TABLE, op, c -> {
            // approval first, then decision: every settlement of one approval takes the locks in that order
            Optional<Approval> approval = ApprovalStore.findForUpdate(c, approvalId);
            Optional<SubmittedDecision> row = Jdbc.queryOne(c, "SELECT " + COLUMNS
                    + " FROM submitted_decisions WHERE id = ? FOR UPDATE", SubmittedDecisionStore::map, id);
            if (row.isEmpty() || approval.isEmpty()) {
                return new Settlement.Refused(UNKNOWN, "no decision '" + id + "' was submitted through Anvil's API");
            }
            SubmittedDecision decision = row.get();
            if (!decision.approvalId().equals(approvalId)) {
                return new Settlement.Refused(OTHER_APPROVAL, "decision '" + id + "' was submitted for another approval, not '"
                        + approvalId + "'");
            }
            if (!decision.state().equals(SubmittedDecision.SUBMITTED)) {
                if (!decision.settledBy().equals(settledBy)) {
                    return new Settlement.Refused(USED, "decision '" + id + "' was already used; each decision counts once");
                }
                return decision.state().equals(SubmittedDecision.ACCEPTED)
                        ? new Settlement.Accepted(decision, approval.get())
                        : new Settlement.Refused(decision.refusalType(), decision.refusal());
            }
            Optional<Refusal> refusal = rules.check(decision, approval.get(), ApprovalStore.decisions(c, approvalId));
            if (refusal.isPresent()) {
                Jdbc.update(c, "UPDATE submitted_decisions SET state = 'refused', refusal_type = ?, refusal = ?,"
                        + " settled_by = ?, settled_at = now() WHERE id = ?",
                        refusal.get().type(), refusal.get().reason(), settledBy, id);
                return new Settlement.Refused(refusal.get().type(), refusal.get().reason());
            }
            Approval after = ApprovalStore.recordDecision(c, approvalId, decision.principal(), decision.decision(),
                    decision.comment());
            Jdbc.update(c, "UPDATE submitted_decisions SET state = 'accepted', settled_by = ?, settled_at = now()"
                    + " WHERE id = ?", settledBy, id);
            return new Settlement.Accepted(find(c, id).orElseThrow(), after);
        });
    }

    private static Optional<SubmittedDecision> find(Connection c, String id) throws SQLException {
        return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM submitted_decisions WHERE id = ?",
                SubmittedDecisionStore::map, id);
    }

    private static SubmittedDecision map(ResultSet rs) throws SQLException {
        String[] roles = (String[]) rs.getArray("roles").getArray();
        return new SubmittedDecision(rs.getString("id"), rs.getString("approval_id"), rs.getString("principal"),
                List.of(roles), rs.getString("decision"), rs.getString("comment"), rs.getString("state"),
                rs.getString("refusal_type"), rs.getString("refusal"), rs.getString("settled_by"),
                Jdbc.instant(rs, "submitted_at"),
                Jdbc.instant(rs, "settled_at"));
    }
}
