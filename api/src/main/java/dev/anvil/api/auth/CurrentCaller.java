package dev.anvil.api.auth;

import dev.anvil.api.problem.ProblemException;
import jakarta.enterprise.context.RequestScoped;
import java.util.List;
import java.util.Optional;

/** The caller of the current request, set by {@link AuthFilter}; empty for a request without a token. */
@RequestScoped
public class CurrentCaller {
    private Caller caller;

    void set(Caller caller) {
        this.caller = caller;
    }

    public Optional<Caller> get() {
        return Optional.ofNullable(caller);
    }

    /** The caller, or 401 when the request carried no token (for endpoints that need one but no role). */
    public Caller require() {
        if (caller == null) {
            throw AuthFilter.unauthenticated("this endpoint needs an API token");
        }
        return caller;
    }

    /** The name recorded as who did something: the principal. */
    public String name() {
        return require().principal();
    }

    static ProblemException forbidden(String detail) {
        return new ProblemException(403, "Forbidden", detail, List.of());
    }
}
