package dev.anvil.serving;

/**
 * The check a change by hand passes before it puts a model version on traffic it did not have: the
 * version's artifact has the evidence production needs (a signed attestation, its run's passed gate over a
 * validation of it, another person's approval), unless an admin breaks glass with a reason; and it has the
 * inputs and outputs the endpoint serves. The API wires the rollouts' admission here, so a hand change and
 * a rollout are judged alike.
 */
@FunctionalInterface
public interface TrafficAdmission {
    /**
     * @param endpoint          the endpoint's name
     * @param candidateSha256   the artifact going on traffic
     * @param servingSha256     the artifact the endpoint serves as stable, whose signature the candidate must
     *                          have; null when there is none to match
     * @param breakGlassReason  an admin's reason for serving it without the evidence, or null
     * @return true when the evidence is missing and the reason waived it (the change is audited as
     *         endpoint.break_glass), false when the evidence holds
     * @throws GatewayException 403 naming the missing link and how to break glass, 409 a different signature
     */
    boolean admit(String endpoint, String candidateSha256, String servingSha256, String breakGlassReason);
}
