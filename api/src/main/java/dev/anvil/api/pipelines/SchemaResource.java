package dev.anvil.api.pipelines;

import jakarta.annotation.security.PermitAll;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;

/** JSON Schemas of what Anvil accepts, for editors and validators. */
@Path("/api/schemas")
@Tag(name = "pipelines")
public class SchemaResource {
    private static final String PIPELINE = read("/schemas/pipeline.json");

    // public: the schema is the same for every installation and names no data (editors fetch it without a token)
    @GET
    @PermitAll
    @Path("/pipeline.json")
    @Produces("application/schema+json")
    @Operation(summary = "JSON Schema of a pipeline spec", description = "For editors and validators; PUT "
            + "/api/pipelines/{name} accepts specs that follow it.")
    @APIResponse(responseCode = "200", description = "the schema",
            content = @Content(mediaType = "application/schema+json", schema = @Schema(type = SchemaType.OBJECT)))
    public String pipeline() {
        return PIPELINE;
    }

    private static String read(String resource) {
        try (InputStream in = SchemaResource.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing " + resource + " on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
