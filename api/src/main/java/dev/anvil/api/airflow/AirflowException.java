package dev.anvil.api.airflow;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A refusal in Airflow's shape: {@code {"detail": ...}}, a string for most statuses and, for 422, the list of
 * validation errors ({@code loc}, {@code msg}, {@code type}) FastAPI gives. Thrown only by this package.
 */
public class AirflowException extends RuntimeException {
    private final int status;
    private final transient Object detail;

    public AirflowException(int status, Object detail) {
        super(String.valueOf(detail));
        this.status = status;
        this.detail = detail;
    }

    public int status() {
        return status;
    }

    public Object detail() {
        return detail;
    }

    public static AirflowException notFound(String detail) {
        return new AirflowException(404, detail);
    }

    public static AirflowException badRequest(String detail) {
        return new AirflowException(400, detail);
    }

    public static AirflowException conflict(String detail) {
        return new AirflowException(409, detail);
    }

    /** Collects validation errors and throws them together, as FastAPI reports every one at once. */
    public static final class Validation {
        private final List<Map<String, Object>> errors = new ArrayList<>();

        public Validation add(String type, String msg, Object... loc) {
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("type", type);
            error.put("loc", List.of(loc));
            error.put("msg", msg);
            errors.add(error);
            return this;
        }

        public boolean isEmpty() {
            return errors.isEmpty();
        }

        public void throwIfAny() {
            if (!errors.isEmpty()) {
                throw new AirflowException(422, List.copyOf(errors));
            }
        }
    }

    public static AirflowException invalid(String type, String msg, Object... loc) {
        return new AirflowException(422, new Validation().add(type, msg, loc).errors);
    }
}
