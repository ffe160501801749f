package dev.anvil.api.serving;

import dev.anvil.api.problem.Problem;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.serving.GatewayException;
import java.util.List;

/** Gateway failures as problem documents, with the offending field when there is one. */
final class Problems {
    private Problems() {
    }

    static ProblemException of(GatewayException e) {
        String title = switch (e.status()) {
            case 400 -> "Bad request";
            case 403 -> "Forbidden";
            case 404 -> "Not found";
            case 409 -> "Conflict";
            case 413 -> "Content too large";
            case 429 -> "Too many requests";
            case 422 -> "Unprocessable content";
            case 503 -> "Service unavailable";
            default -> "Internal server error";
        };
        ProblemException problem = new ProblemException(e.status(), title, e.getMessage(),
                e.field() == null ? List.of() : List.of(new Problem.FieldError(e.field(), e.getMessage())));
        return e.retryAfter() == null ? problem : problem.retryAfter(Math.max(1, e.retryAfter().toSeconds()));
    }
}
