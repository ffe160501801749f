package dev.anvil.api.pipelines;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** JSON Schemas of what Anvil accepts, for editors and validators. */
@Path("/api/schemas")
public class SchemaResource {
    private static final String PIPELINE = read("/schemas/pipeline.json");

    @GET
    @Path("/pipeline.json")
    @Produces("application/schema+json")
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
