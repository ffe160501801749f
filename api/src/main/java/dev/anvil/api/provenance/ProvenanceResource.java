package dev.anvil.api.provenance;

import dev.anvil.activities.provenance.SigningKey;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The public key that signs provenance (docs/provenance.md). */
@Path("/api/provenance")
@Tag(name = "provenance")
@Produces(MediaType.APPLICATION_JSON)
public class ProvenanceResource {
    @Inject SigningKey key;

    @GET
    @Path("/key")
    @PermitAll // a public key: verifiers outside Anvil need it, and it reveals nothing
    @Operation(summary = "The public key that signs every task output's provenance",
            description = "Envelopes from GET /api/artifacts/{sha256}/attestations are signed with it (keyid)."
                    + " Verifiers should pin it rather than fetch it next to what it verifies.")
    @APIResponse(responseCode = "200", description = "keyid, algorithm and the public key as PEM")
    public ProvenanceKeyView key() {
        return ProvenanceKeyView.of(key);
    }
}
