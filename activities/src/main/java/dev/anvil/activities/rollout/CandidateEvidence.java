package dev.anvil.activities.rollout;

import java.util.List;

/**
 * What Anvil's own records say about a candidate model: the signed attestation of the run that built it,
 * that run's gate and its approval. {@code problem} is null when the chain holds, else what is missing.
 *
 * @param artifact   the candidate's sha256
 * @param signature  {@code valid}, {@code invalid} (a forged or tampered envelope) or {@code none}
 * @param runId      the run the valid attestation names, null without one
 * @param task       the task of that run that built the candidate, null without one
 * @param gatePassed whether that run passed a gate over a validation of the candidate
 * @param approval   the state of that run's approval (approved, pending, rejected, expired), null without one
 * @param approvedBy who approved, the requester never among them
 * @param problem    why the chain does not hold, null when it does
 */
public record CandidateEvidence(String artifact, String signature, String runId, String task, boolean gatePassed,
                                String approval, List<String> approvedBy, String problem) {
    public boolean holds() {
        return problem == null;
    }
}
