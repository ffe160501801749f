package dev.anvil.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Approval gates and reviewers' decisions. Who may decide (not the requester, only known runs) is
 * the workflow's update validator's call; this store keeps the record and derives the state.
 */
public final class ApprovalStore {

    private static final String TABLE = "approvals";
    private static final String COLUMNS =
            "id, run_id, task_id, state, required_approvals, requested_by, requested_at, decided_at, reason";

    private static final String DECISIONS = "SELECT approval_id, reviewer, decision, comment, decided_at"
            + " FROM approval_decisions WHERE approval_id = ? ORDER BY decided_at, reviewer";

    private final Jdbc jdbc;

    public ApprovalStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /** Opens a pending approval, or returns the one already stored under id (a retried request). */
    public Approval create(String id, String runId, String taskId, int requiredApprovals, String requestedBy) {
        Validate.notNull(TABLE, "create", "id", id);
        Validate.notNull(TABLE, "create", "taskId", taskId);
        if (requiredApprovals < 1) {
            throw DataAccessException.badInput(TABLE, "create", "requiredApprovals " + requiredApprovals
                    + " must be at least 1");
        }
        return jdbc.inTransaction(TABLE, "create", c -> {
            try {
                int inserted = Jdbc.update(c, "INSERT INTO approvals (id, run_id, task_id, required_approvals, requested_by)"
                        + " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                        id, runId, taskId, requiredApprovals, requestedBy);
                if (inserted == 1) {
                    RegistryEvents.record(c, RegistryEvents.APPROVAL_REQUESTED, "run:" + runId, RegistryEvents.data(
                            "approval", id, "run", runId, "task", taskId, "requiredApprovals", requiredApprovals,
                            "requestedBy", requestedBy));
                }
            } catch (SQLException e) {
                if (Jdbc.violates(e, "approvals_run_id_fkey")) {
                    throw DataAccessException.badInput(TABLE, "create", "no pipeline run with id '" + runId + "'", e);
                }
                throw e;
            }
            return find(c, id).orElseThrow();
        });
    }

    public Optional<Approval> find(String id) {
        return jdbc.withConnection(TABLE, "find", c -> find(c, id));
    }

    /** Approvals still waiting for reviewers, oldest request first. */
    public List<Approval> listPending() {
        return jdbc.query(TABLE, "list pending", "SELECT " + COLUMNS
                + " FROM approvals WHERE state = 'pending' ORDER BY requested_at, id", ApprovalStore::map);
    }

    /** Approvals newest request first, optionally in one state (pending, approved, rejected, expired). */
    public List<Approval> list(String state, int limit) {
        if (state != null) {
            Validate.oneOf(TABLE, "list", "state", state, Approval.STATES);
        }
        return jdbc.query(TABLE, "list", "SELECT " + COLUMNS + " FROM approvals WHERE (?::text IS NULL OR state = ?)"
                + " ORDER BY requested_at DESC, id DESC LIMIT ?", ApprovalStore::map, state, state, limit);
    }

    /** The approvals of one run, oldest first. */
    public List<Approval> listByRun(String runId) {
        return jdbc.query(TABLE, "list by run", "SELECT " + COLUMNS + " FROM approvals WHERE run_id = ?"
                + " ORDER BY requested_at, id", ApprovalStore::map, runId);
    }

    /** The decisions on an approval, in the order they were made. */
    public List<ApprovalDecision> decisions(String approvalId) {
        return jdbc.query("approval_decisions", "list", DECISIONS, ApprovalStore::mapDecision, approvalId);
    }

    /**
     * Records a reviewer's decision and returns the approval with its new state: rejected on any
     * reject, approved once requiredApprovals reviewers approved, pending otherwise. The same
     * decision again from the same reviewer is a retry and changes nothing; a different one, or
     * any decision on an approval that is no longer pending, is refused.
     */
    public Approval recordDecision(String approvalId, String reviewer, String decision, String comment) {
        String op = "record decision";
        Validate.notNull(TABLE, op, "reviewer", reviewer);
        Validate.oneOf(TABLE, op, "decision", decision, Approval.DECISIONS);
        return jdbc.inTransaction(TABLE, op, c -> recordDecision(c, approvalId, reviewer, decision, comment));
    }

    /** {@link #recordDecision(String, String, String, String)} inside the caller's transaction. */
    static Approval recordDecision(Connection c, String approvalId, String reviewer, String decision, String comment)
            throws SQLException {
        String op = "record decision";
        // The row lock makes concurrent decisions count one after the other.
        Approval approval = findForUpdate(c, approvalId).orElseThrow(() -> DataAccessException.badInput(TABLE, op, "no approval with id '" + approvalId + "'"));
        Optional<String> earlier = Jdbc.queryOne(c, "SELECT decision FROM approval_decisions"
                + " WHERE approval_id = ? AND reviewer = ?", rs -> rs.getString(1), approvalId, reviewer);
        if (earlier.isPresent()) {
            if (earlier.get().equals(decision)) {
                return approval;
            }
            throw DataAccessException.badInput(TABLE, op, "reviewer '" + reviewer + "' already decided '"
                    + earlier.get() + "' on approval '" + approvalId + "'; a decision cannot be changed");
        }
        if (!approval.state().equals("pending")) {
            throw DataAccessException.badInput(TABLE, op, "approval '" + approvalId + "' is already "
                    + approval.state() + "; only pending approvals take decisions");
        }
        Jdbc.update(c, "INSERT INTO approval_decisions (approval_id, reviewer, decision, comment) VALUES (?, ?, ?, ?)",
                approvalId, reviewer, decision, comment);
        Jdbc.update(c, """
                UPDATE approvals a SET state = d.state, decided_at = CASE WHEN d.state <> 'pending' THEN now() END
                  FROM (SELECT CASE WHEN bool_or(decision = 'reject') THEN 'rejected'
                                    WHEN count(*) FILTER (WHERE decision = 'approve') >= ? THEN 'approved'
                                    ELSE 'pending' END AS state
                          FROM approval_decisions WHERE approval_id = ?) d
                 WHERE a.id = ?""", approval.requiredApprovals(), approvalId, approvalId);
        Approval after = find(c, approvalId).orElseThrow();
        RegistryEvents.record(c, RegistryEvents.APPROVAL_DECIDED, "run:" + after.runId(), RegistryEvents.data(
                "approval", approvalId, "run", after.runId(), "task", after.taskId(), "reviewer", reviewer,
                "decision", decision, "comment", comment, "state", after.state()));
        return after;
    }

    /** Expires a pending approval (its deadline passed); an already decided one is returned unchanged. */
    public Approval expire(String approvalId) {
        return expire(approvalId, null);
    }

    /** As {@link #expire(String)}, saying why (e.g. the run was cancelled). */
    public Approval expire(String approvalId, String reason) {
        return jdbc.withConnection(TABLE, "expire", c -> {
            Jdbc.update(c, "UPDATE approvals SET state = 'expired', decided_at = now(), reason = ?"
                    + " WHERE id = ? AND state = 'pending'", reason, approvalId);
            return find(c, approvalId).orElseThrow(
                    () -> DataAccessException.badInput(TABLE, "expire", "no approval with id '" + approvalId + "'"));
        });
    }

    /**
     * Expires the approvals still pending whose runs have ended (success, failed or cancelled): no
     * reviewer can decide them any more, and the workflow that would have withdrawn them is gone.
     * Each gets a reason naming the run's end. Returns the approvals expired.
     */
    public List<Approval> expireOrphans() {
        return jdbc.query(TABLE, "expire orphans", "UPDATE approvals a SET state = 'expired', decided_at = now(),"
                + " reason = 'run ' || r.id || ' ended ' || r.status || ' while this approval was pending'"
                + " || CASE WHEN r.error IS NOT NULL THEN ' (' || r.error || ')' ELSE '' END"
                + " FROM pipeline_runs r WHERE r.id = a.run_id AND a.state = 'pending'"
                + " AND r.status IN ('success', 'failed', 'cancelled')"
                + " RETURNING a.id, a.run_id, a.task_id, a.state, a.required_approvals, a.requested_by, a.requested_at,"
                + " a.decided_at, a.reason", ApprovalStore::map);
    }

    /** The approval, its row locked until the caller's transaction ends. */
    static Optional<Approval> findForUpdate(Connection c, String id) throws SQLException {
        return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM approvals WHERE id = ? FOR UPDATE", ApprovalStore::map, id);
    }

    static List<ApprovalDecision> decisions(Connection c, String approvalId) throws SQLException {
        return Jdbc.query(c, DECISIONS, ApprovalStore::mapDecision, approvalId);
    }

    private static Optional<Approval> find(Connection c, String id) throws SQLException {
        return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM approvals WHERE id = ?", ApprovalStore::map, id);
    }

    private static ApprovalDecision mapDecision(ResultSet rs) throws SQLException {
        return new ApprovalDecision(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                Jdbc.instant(rs, "decided_at"));
    }

    private static Approval map(ResultSet rs) throws SQLException {
        return new Approval(rs.getString("id"), rs.getString("run_id"), rs.getString("task_id"), rs.getString("state"),
                rs.getInt("required_approvals"), rs.getString("requested_by"), Jdbc.instant(rs, "requested_at"),
                Jdbc.instant(rs, "decided_at"), rs.getString("reason"));
    }
}
