package dev.anvil.workflows.pipeline.spec;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An event that starts a pipeline besides its cron ({@code schedule.on}): a drift check on an endpoint that
 * found drift ({@code {drift: <endpoint>}}), or a new version of a registered dataset
 * ({@code {dataset: <name>}}). Names are checked for form only: an endpoint or dataset that does not exist yet
 * simply never fires.
 */
public record EventTrigger(String kind, String name) {
    public static final String DRIFT = "drift";
    public static final String DATASET = "dataset";
    public static final List<String> KINDS = List.of(DRIFT, DATASET);
    /** The endpoint (EndpointStore.NAME) and dataset (V24) name rules. */
    static final Pattern ENDPOINT_NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");
    static final Pattern DATASET_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    public EventTrigger {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(name, "name");
        if (!KINDS.contains(kind)) {
            throw new IllegalArgumentException("unknown event '" + kind + "'; use one of " + KINDS);
        }
        Pattern rule = kind.equals(DRIFT) ? ENDPOINT_NAME : DATASET_NAME;
        if (!rule.matcher(name).matches()) {
            throw new IllegalArgumentException("'" + name + "' is not a valid " + (kind.equals(DRIFT) ? "endpoint"
                    : "dataset") + " name; use 1-63 lower-case letters, digits, '_' or '-'"
                    + (kind.equals(DRIFT) ? " or '.'" : "") + ", starting with a letter or digit");
        }
    }

    /** True when the event of this kind on this subject starts the pipeline. */
    public boolean matches(String eventKind, String subject) {
        return kind.equals(eventKind) && name.equals(subject);
    }
}
