package dev.anvil.api;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A fixture's endpoint set up by hand with an uploaded model, which has none of the evidence production
 * needs: the admin breaks glass with a reason, as a team would for a first deployment. Tests about the
 * evidence itself use {@link ApprovedCandidates} instead.
 */
public final class BreakGlass {
    public static final String REASON = "test fixture: this test is about serving, not governance";

    private BreakGlass() {
    }

    /** {@code body} with {@code "break_glass": {"reason": REASON}} added. */
    public static Map<String, Object> with(Map<String, ?> body) {
        Map<String, Object> copy = new LinkedHashMap<>(body);
        copy.put("break_glass", Map.of("reason", REASON));
        return copy;
    }
}
