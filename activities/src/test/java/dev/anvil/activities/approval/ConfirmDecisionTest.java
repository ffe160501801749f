package dev.anvil.activities.approval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.db.AuditEntry;
import dev.anvil.workflows.approval.ApprovalFailures;
import dev.anvil.workflows.approval.ConfirmedDecision;
import dev.anvil.workflows.approval.DecisionToConfirm;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The workflow counts a decision only once this activity confirmed it from what the API wrote: the
 * reviewer's roles and name come from the submitted row, never from the caller of the Update.
 */
class ConfirmDecisionTest {
    private static final List<String> REVIEWER = List.of("viewer", "reviewer");

    private DecidingFixture fixture;
    private String approval;

    @BeforeEach
    void open() throws Exception {
        fixture = new DecidingFixture("confirm");
        approval = fixture.openApproval("run-1", "sam", 1);
    }

    @Test
    void aSubmittedDecisionIsCountedAndAudited() {
        String id = fixture.submit(approval, "rita", REVIEWER, "approve", "numbers look right");

        ConfirmedDecision confirmed = fixture.confirm(id, approval, "sam");

        assertThat(confirmed).isEqualTo(new ConfirmedDecision("rita", "approve", "numbers look right", "approved"));
        assertThat(fixture.approvals.find(approval).orElseThrow().state()).isEqualTo("approved");
        assertThat(fixture.submitted.find(id).orElseThrow().state()).isEqualTo("accepted");
        assertThat(fixture.audit.listBySubject("run:run-1", 10)).extracting(AuditEntry::actor, AuditEntry::action)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("rita", "approval.approve"));
    }

    @Test
    void theRetryOfOneUpdateGetsTheSameAnswerAndAnyOtherUseIsRefused() {
        String id = fixture.submit(approval, "rita", REVIEWER, "approve", null);
        DecisionToConfirm check = new DecisionToConfirm(id, approval, "sam", "update-1");

        assertThat(fixture.activities.confirmDecision(check).state()).isEqualTo("approved");
        assertThat(fixture.activities.confirmDecision(check).state()).isEqualTo("approved");
        assertThat(fixture.refusal(id, approval, "sam", "was already used")).isEqualTo(ApprovalFailures.ALREADY_DECIDED);
        assertThat(fixture.approvals.decisions(approval)).hasSize(1);
        assertThat(fixture.audit.listBySubject("run:run-1", 10)).hasSize(1);
    }

    @Test
    void theRulesAreCheckedAgainstTheSubmittedRow() {
        String admin = fixture.submit(approval, "ada", List.of("admin", "submitter"), "approve", null);
        String own = fixture.submit(approval, "sam", REVIEWER, "approve", null);
        String bare = fixture.submit(approval, "rita", REVIEWER, "reject", " ");

        assertThat(fixture.refusal(admin, approval, "sam", "'ada' does not have the reviewer role"))
                .isEqualTo(ApprovalFailures.NOT_REVIEWER);
        assertThat(fixture.refusal(own, approval, "sam", "'sam' submitted run run-1 and may not approve it (four-eyes rule)"))
                .isEqualTo(ApprovalFailures.FOUR_EYES);
        assertThat(fixture.refusal(bare, approval, "sam", "a reject needs a comment saying why"))
                .isEqualTo(ApprovalFailures.INVALID_DECISION);
        assertThat(fixture.submitted.find(own).orElseThrow().state()).isEqualTo("refused");
        assertThat(fixture.approvals.decisions(approval)).isEmpty();

        // the submitter may withdraw their own run: four-eyes guards approvals only
        fixture.confirm(fixture.submit(approval, "sam", REVIEWER, "reject", "wrong calibration set"), approval, "sam");
        String late = fixture.submit(approval, "rob", REVIEWER, "approve", null);
        assertThat(fixture.refusal(late, approval, "sam", "is already rejected")).isEqualTo(ApprovalFailures.NOT_PENDING);
    }

    @Test
    void anIdNobodySubmittedOrAnotherRunsIsRefusedAndChangesNothing() {
        String other = fixture.openApproval("run-2", "sam", 1);
        String forOther = fixture.submit(other, "rita", REVIEWER, "approve", null);

        assertThat(fixture.refusal("5d1c3b9e-1111-4222-8333-444455556666", approval, "sam", "was submitted through Anvil's API"))
                .isEqualTo(ApprovalFailures.UNKNOWN_DECISION);
        assertThat(fixture.refusal(forOther, approval, "sam", "was submitted for another approval"))
                .isEqualTo(ApprovalFailures.UNKNOWN_DECISION);
        assertThat(fixture.approvals.decisions(approval)).isEmpty();
        assertThat(fixture.submitted.find(forOther).orElseThrow().state()).isEqualTo("submitted");
        assertThat(fixture.confirm(forOther, other, "sam").state()).isEqualTo("approved");
    }
}
