package dev.anvil.activities.rollout;

import dev.anvil.workflows.rollout.CanaryRequest;

/**
 * The one check a rollout passes before it changes an endpoint's traffic, whichever path starts it: the
 * REST endpoint, the pipeline's canary operator and the rollout's first activity all ask it.
 */
public interface RolloutAdmission {
    /**
     * @param breakGlass whether an admin broke glass for this rollout (audited), which waives the evidence
     *                   but not that the candidate fits what the endpoint serves
     * @throws RolloutRefused saying what is missing or wrong
     */
    void admit(CanaryRequest request, boolean breakGlass);
}
