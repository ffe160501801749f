package dev.anvil.api.problem;

import java.util.List;

/** Thrown by resources to answer with a problem document. */
public class ProblemException extends RuntimeException {
    private final int status;
    private final String title;
    private final List<Problem.FieldError> errors;
    private Long retryAfterSeconds;

    public ProblemException(int status, String title, String detail, List<Problem.FieldError> errors) {
        super(detail);
        this.status = status;
        this.title = title;
        this.errors = errors;
    }

    public static ProblemException badRequest(String field, String detail) {
        return new ProblemException(400, "Bad request", detail, List.of(new Problem.FieldError(field, detail)));
    }

    public static ProblemException notFound(String detail) {
        return new ProblemException(404, "Not found", detail, List.of());
    }

    public static ProblemException unprocessable(String field, String detail) {
        return new ProblemException(422, "Unprocessable content", detail,
                field == null ? List.of() : List.of(new Problem.FieldError(field, detail)));
    }

    /** Sends Retry-After with the problem: the same request may succeed after this many seconds. */
    public ProblemException retryAfter(long seconds) {
        this.retryAfterSeconds = seconds;
        return this;
    }

    /** Seconds for the Retry-After header, or null when there is none. */
    public Long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public List<Problem.FieldError> errors() {
        return errors;
    }
}
