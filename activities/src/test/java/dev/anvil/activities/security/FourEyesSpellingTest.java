package dev.anvil.activities.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.activities.approval.DecidingFixture;
import dev.anvil.workflows.approval.ApprovalFailures;
import dev.anvil.workflows.approval.Principals;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The activity that confirms decisions is the authority on them: the requester spelt another way
 * ("ALICE", " alice", full-width) is still the requester, and one reviewer spelt two ways counts once.
 */
class FourEyesSpellingTest {
    private static final List<String> REVIEWER = List.of("reviewer");

    private DecidingFixture fixture;

    @BeforeEach
    void open() throws Exception {
        fixture = new DecidingFixture("foureyes");
    }

    @Test
    void theRequesterSpeltAnotherWayMayNotApprove() {
        String approval = fixture.openApproval("run-spelling", "Alice", 1);

        for (String alias : List.of("alice", "ALICE", " alice ", "ａｌｉｃｅ", "Alice\u3000")) {
            String id = fixture.submit(approval, alias, REVIEWER, "approve", null);
            assertThat(fixture.refusal(id, approval, "Alice", "four-eyes rule")).as(alias).isEqualTo(ApprovalFailures.FOUR_EYES);
        }
        assertThat(fixture.approvals.decisions(approval)).isEmpty();
        assertThat(fixture.approvals.find(approval).orElseThrow().state()).isEqualTo("pending");
    }

    @Test
    void oneReviewerSpeltTwoWaysCountsOnce() {
        String approval = fixture.openApproval("run-distinct", "Alice", 2);
        fixture.confirm(fixture.submit(approval, "Rita", REVIEWER, "approve", null), approval, "Alice");

        String again = fixture.submit(approval, "rita ", REVIEWER, "approve", null);

        assertThat(fixture.refusal(again, approval, "Alice", "already decided")).isEqualTo(ApprovalFailures.ALREADY_DECIDED);
        assertThat(fixture.approvals.decisions(approval)).hasSize(1);
    }

    @Test
    void theNormaliserTrimsFoldsAndLowerCases() {
        assertThat(Principals.normalize(" Ａlice\u3000")).isEqualTo("alice");
        assertThat(Principals.same("Alice", "alice ")).isTrue();
        assertThat(Principals.same("alice", "alicia")).isFalse();
        assertThat(Principals.same(null, null)).isFalse();
    }
}
