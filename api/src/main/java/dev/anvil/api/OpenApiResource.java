package dev.anvil.api;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The OpenAPI document (/q/openapi) and Swagger UI (/q/swagger-ui) over it. */
@Path("/q")
public class OpenApiResource {
    static final String SWAGGER_UI = "/webjars/swagger-ui/5.30.2";
    private static final String DOCUMENT = read("/openapi/anvil.yaml");

    @GET
    @Path("/openapi")
    @Produces("application/yaml")
    public String openApi() {
        return DOCUMENT;
    }

    @GET
    @Path("/swagger-ui")
    @Produces("text/html")
    public Response swaggerUi() {
        String page = """
                <!doctype html>
                <html lang="en">
                <head><meta charset="utf-8"><title>Anvil API</title>
                <link rel="stylesheet" href="%1$s/swagger-ui.css"></head>
                <body><div id="swagger-ui"></div>
                <script src="%1$s/swagger-ui-bundle.js"></script>
                <script>window.ui = SwaggerUIBundle({url: '/q/openapi', dom_id: '#swagger-ui'});</script>
                </body></html>
                """.formatted(SWAGGER_UI);
        return Response.ok(page).build();
    }

    private static String read(String resource) {
        try (InputStream in = OpenApiResource.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing " + resource + " on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
