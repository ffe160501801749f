package dev.anvil.activities.external;

import java.net.URI;
import java.util.Optional;

/**
 * A training service the worker may hand jobs to, from the worker's configuration (never from a spec).
 *
 * @param authorization the Authorization header value sent with each job (e.g. {@code Bearer ...}), if any
 */
public record TrainingService(String name, URI jobsUrl, Optional<String> authorization) {
    @Override
    public String toString() {
        // the header is a secret: never in logs or error messages
        return "TrainingService[" + name + " at " + jobsUrl + "]";
    }
}
