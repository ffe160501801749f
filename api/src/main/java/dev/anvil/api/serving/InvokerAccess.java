package dev.anvil.api.serving;

import dev.anvil.api.auth.Roles;
import dev.anvil.api.auth.SecurityProblems;
import dev.anvil.api.problem.ProblemException;
import io.quarkus.security.identity.SecurityIdentity;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Who may call the inference protocol's operations: a caller with the role invoker (an admin has it), or
 * anyone where what they call is open to the public. The rest get 401 (no identity) or 403 (another role).
 */
final class InvokerAccess {
    private InvokerAccess() {
    }

    /**
     * @param open       whether the operation is open to anyone now (asked only of callers without the role)
     * @param what       the operation, as the refusal names it
     * @param openWhen   what would make it open, e.g. "the endpoint is public"
     * @param forbiddenFix appended to the 403's detail: how a caller with another role could get in, or ""
     */
    static void require(SecurityIdentity identity, BooleanSupplier open, String what, String openWhen,
                        String forbiddenFix) {
        if (identity.hasRole(Roles.INVOKER) || open.getAsBoolean()) {
            return;
        }
        if (identity.isAnonymous()) {
            throw SecurityProblems.unauthenticated(what + " needs an API token with the role " + Roles.INVOKER
                    + " (or an admin's), unless " + openWhen);
        }
        throw new ProblemException(403, "Forbidden", "'" + identity.getPrincipal().getName() + "' may not " + what
                + ": it needs the role " + Roles.INVOKER + forbiddenFix, List.of());
    }
}
