package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class ApprovalStoreTest {

    private final DataSource db = TestPostgres.migratedDatabase();
    private final ApprovalStore approvals = new ApprovalStore(db);

    ApprovalStoreTest() {
        new PipelineRunStore(db).create("run-1", "p", null, "alice");
    }

    @Test
    void createsOnceAndListsPending() {
        Approval created = approvals.create("ap-1", "run-1", "approve-rollout", 2, "alice");
        Approval again = approvals.create("ap-1", "run-1", "approve-rollout", 2, "alice");

        assertThat(again).isEqualTo(created);
        assertThat(created.state()).isEqualTo("pending");
        assertThat(approvals.listPending()).containsExactly(created);
    }

    @Test
    void becomesApprovedOnceEnoughReviewersApprove() {
        approvals.create("ap-1", "run-1", "gate", 2, "alice");

        Approval afterOne = approvals.recordDecision("ap-1", "bob", "approve", "metrics look fine");
        assertThat(afterOne.state()).isEqualTo("pending");
        assertThat(approvals.recordDecision("ap-1", "bob", "approve", "retry")).isEqualTo(afterOne);

        Approval afterTwo = approvals.recordDecision("ap-1", "carol", "approve", null);
        assertThat(afterTwo.state()).isEqualTo("approved");
        assertThat(afterTwo.decidedAt()).isNotNull();
        assertThat(approvals.listPending()).isEmpty();
        assertThat(approvals.decisions("ap-1")).extracting(ApprovalDecision::reviewer).containsExactly("bob", "carol");
    }

    @Test
    void oneRejectRejects() {
        approvals.create("ap-1", "run-1", "gate", 2, "alice");
        approvals.recordDecision("ap-1", "bob", "approve", null);

        assertThat(approvals.recordDecision("ap-1", "carol", "reject", "latency regressed").state())
                .isEqualTo("rejected");
    }

    @Test
    void expiresOnlyPendingApprovals() {
        approvals.create("ap-1", "run-1", "gate", 1, "alice");

        assertThat(approvals.expire("ap-1").state()).isEqualTo("expired");
        assertThatThrownBy(() -> approvals.recordDecision("ap-1", "bob", "approve", null))
                .hasMessage("approvals record decision: approval 'ap-1' is already expired;"
                        + " only pending approvals take decisions");
    }

    @Test
    void mistakesAreNamed() {
        approvals.create("ap-1", "run-1", "gate", 1, "alice");
        approvals.recordDecision("ap-1", "bob", "reject", null);

        assertThatThrownBy(() -> approvals.recordDecision("ap-1", "bob", "approve", null))
                .hasMessage("approvals record decision: reviewer 'bob' already decided 'reject' on approval 'ap-1';"
                        + " a decision cannot be changed");
        assertThatThrownBy(() -> approvals.recordDecision("ap-1", "carol", "maybe", null))
                .hasMessage("approvals record decision: decision 'maybe' is not valid, expected one of [approve, reject]");
        assertThatThrownBy(() -> approvals.create("ap-2", "no-run", "gate", 1, "alice"))
                .hasMessage("approvals create: no pipeline run with id 'no-run'");
    }

    @Test
    void listsNewestFirstByState() {
        Approval first = approvals.create("ap-1", "run-1", "a", 1, "alice");
        Approval second = approvals.create("ap-2", "run-1", "b", 1, "alice");
        approvals.recordDecision("ap-1", "rita", "approve", null);

        assertThat(approvals.list("pending", 10)).containsExactly(second);
        assertThat(approvals.list(null, 10)).extracting(Approval::id).containsExactly("ap-2", "ap-1");
        assertThat(approvals.listByRun("run-1")).extracting(Approval::id).containsExactly(first.id(), "ap-2");
        assertThatThrownBy(() -> approvals.list("maybe", 10)).hasMessageContaining("expected one of [pending, approved, rejected, expired]");
    }
}
