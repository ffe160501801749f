package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.db.SubmittedDecisionStore.Refusal;
import dev.anvil.db.SubmittedDecisionStore.Settlement;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class SubmittedDecisionStoreTest {

    private static final SubmittedDecisionStore.Rules PASS = (decision, approval, earlier) -> Optional.empty();

    private final DataSource db = TestPostgres.migratedDatabase();
    private final ApprovalStore approvals = new ApprovalStore(db);
    private final SubmittedDecisionStore decisions = new SubmittedDecisionStore(db);

    SubmittedDecisionStoreTest() {
        new PipelineRunStore(db).create("run-1", "p", null, "alice");
        new PipelineRunStore(db).create("run-2", "p", null, "alice");
        approvals.create("ap-1", "run-1", "gate", 2, "alice");
        approvals.create("ap-2", "run-2", "gate", 1, "alice");
    }

    @Test
    void aSubmittedDecisionHasARandomIdAndWaits() {
        SubmittedDecision one = decisions.submit("ap-1", "rita", List.of("reviewer"), "approve", "fine");
        SubmittedDecision two = decisions.submit("ap-1", "rita", List.of("reviewer"), "approve", "fine");

        assertThat(one.id()).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}").isNotEqualTo(two.id());
        assertThat(one.state()).isEqualTo("submitted");
        assertThat(one.roles()).containsExactly("reviewer");
        assertThat(decisions.find(one.id())).contains(one);
        assertThatThrownBy(() -> decisions.submit("ap-9", "rita", List.of("reviewer"), "approve", null))
                .hasMessage("submitted_decisions submit: no approval with id 'ap-9'");
        assertThatThrownBy(() -> decisions.submit("ap-1", "rita", List.of("reviewer"), "merge", null))
                .hasMessageContaining("decision 'merge' is not valid");
    }

    @Test
    void aPassingDecisionIsCountedOnceAndItsRetryGetsTheSameAnswer() {
        String id = decisions.submit("ap-1", "rita", List.of("reviewer"), "approve", "fine").id();

        Settlement first = decisions.settle(id, "ap-1", "run-1/7", PASS);
        Settlement retried = decisions.settle(id, "ap-1", "run-1/7", PASS);

        assertThat(first).isInstanceOfSatisfying(Settlement.Accepted.class,
                a -> assertThat(a.approval().state()).isEqualTo("pending"));
        assertThat(retried).isInstanceOf(Settlement.Accepted.class);
        assertThat(approvals.decisions("ap-1")).extracting(ApprovalDecision::reviewer).containsExactly("rita");
        assertThat(decisions.find(id).orElseThrow().state()).isEqualTo("accepted");
    }

    @Test
    void aUsedDecisionIsRefusedToAnyoneElse() {
        String id = decisions.submit("ap-2", "rita", List.of("reviewer"), "approve", null).id();
        decisions.settle(id, "ap-2", "run-2/7", PASS);

        assertThat(decisions.settle(id, "ap-2", "run-2/9", PASS))
                .isEqualTo(new Settlement.Refused(SubmittedDecisionStore.USED,
                        "decision '" + id + "' was already used; each decision counts once"));
        assertThat(approvals.decisions("ap-2")).hasSize(1);
    }

    @Test
    void anUnknownIdOrAnotherApprovalsDecisionIsRefusedAndChangesNothing() {
        String forB = decisions.submit("ap-2", "rita", List.of("reviewer"), "approve", null).id();

        assertThat(decisions.settle("0b6f1d2e-0000-4000-8000-000000000000", "ap-1", "run-1/7", PASS))
                .isInstanceOfSatisfying(Settlement.Refused.class, r -> assertThat(r.type()).isEqualTo(SubmittedDecisionStore.UNKNOWN));
        assertThat(decisions.settle(null, "ap-1", "run-1/7", PASS))
                .isInstanceOfSatisfying(Settlement.Refused.class, r -> assertThat(r.type()).isEqualTo(SubmittedDecisionStore.UNKNOWN));
        assertThat(decisions.settle(forB, "ap-1", "run-1/7", PASS)).isEqualTo(new Settlement.Refused(
                SubmittedDecisionStore.OTHER_APPROVAL, "decision '" + forB + "' was submitted for another approval, not 'ap-1'"));
        assertThat(approvals.decisions("ap-1")).isEmpty();
        assertThat(decisions.find(forB).orElseThrow().state()).isEqualTo("submitted");

        // the decision still counts where it belongs
        assertThat(decisions.settle(forB, "ap-2", "run-2/7", PASS)).isInstanceOfSatisfying(Settlement.Accepted.class,
                a -> assertThat(a.approval().state()).isEqualTo("approved"));
    }

    @Test
    void aRuleRefusalIsKeptAndRecordsNothing() {
        String id = decisions.submit("ap-1", "alice", List.of("reviewer"), "approve", null).id();
        SubmittedDecisionStore.Rules fourEyes = (decision, approval, earlier) ->
                decision.principal().equals(approval.requestedBy())
                        ? Optional.of(new Refusal("FourEyes", "alice requested it")) : Optional.empty();

        Settlement refused = decisions.settle(id, "ap-1", "run-1/7", fourEyes);

        assertThat(refused).isEqualTo(new Settlement.Refused("FourEyes", "alice requested it"));
        assertThat(decisions.settle(id, "ap-1", "run-1/7", PASS)).isEqualTo(refused);
        assertThat(decisions.find(id).orElseThrow()).extracting(SubmittedDecision::state, SubmittedDecision::refusal)
                .containsExactly("refused", "alice requested it");
        assertThat(approvals.decisions("ap-1")).isEmpty();
        assertThat(approvals.find("ap-1").orElseThrow().state()).isEqualTo("pending");
    }

    @Test
    void theRulesSeeTheDecisionsAlreadyCounted() {
        decisions.settle(decisions.submit("ap-1", "rita", List.of("reviewer"), "approve", null).id(), "ap-1", "k1", PASS);
        String again = decisions.submit("ap-1", "Rita", List.of("reviewer"), "approve", null).id();

        Settlement second = decisions.settle(again, "ap-1", "k2", (decision, approval, earlier) -> earlier.stream()
                .anyMatch(d -> d.reviewer().equalsIgnoreCase(decision.principal()))
                ? Optional.of(new Refusal("Already", "rita already decided")) : Optional.empty());

        assertThat(second).isEqualTo(new Settlement.Refused("Already", "rita already decided"));
    }
}
