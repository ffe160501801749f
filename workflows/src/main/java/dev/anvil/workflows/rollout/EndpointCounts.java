package dev.anvil.workflows.rollout;

import java.util.List;

/** The gateway's counters for every version an endpoint serves, read at one moment. */
public record EndpointCounts(String endpoint, List<VersionCounts> versions) {

    /** The counters of one version, zero if the gateway has not served it. */
    public VersionCounts of(int version) {
        return versions.stream().filter(v -> v.version() == version).findFirst()
                .orElseGet(() -> VersionCounts.empty(version));
    }
}
