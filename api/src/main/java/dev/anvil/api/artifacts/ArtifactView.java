package dev.anvil.api.artifacts;

import dev.anvil.db.Artifact;
import java.time.Instant;

/** An artifact as the API shows it. */
public record ArtifactView(String sha256, String uri, long size, String mediaType, Long createdByTaskRun,
                           Instant createdAt, String content, String lineage) {
    public static ArtifactView of(Artifact a) {
        String base = "/api/artifacts/" + a.sha256();
        return new ArtifactView(a.sha256(), a.uri(), a.sizeBytes(), a.mediaType(), a.createdByTaskRun(), a.createdAt(),
                base + "/content", base + "/lineage");
    }
}
