package dev.anvil.api.provenance;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The signed provenance of one artifact, with the key to verify it. */
public record AttestationsView(
        String artifact,
        @Schema(description = "the key the envelopes are signed with")
        ProvenanceKeyView key,
        @Schema(description = "one per task attempt that published the artifact; empty for an upload")
        List<Item> attestations) {

    /**
     * @param envelope the DSSE envelope as stored: payloadType, payload (base64 of the in-toto statement),
     *                 signatures [{keyid, sig}]
     */
    public record Item(long taskRunId, String runId, String taskId, Integer attempt, String createdAt,
                       @Schema(description = "DSSE envelope: {payloadType, payload (base64), signatures: [{keyid, sig}]}")
                       JsonNode envelope) {}
}
