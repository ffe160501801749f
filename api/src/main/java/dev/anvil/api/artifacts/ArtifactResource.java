package dev.anvil.api.artifacts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.provenance.SigningKey;
import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.limits.StreamedBody;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.api.provenance.AttestationsView;
import dev.anvil.api.provenance.ProvenanceKeyView;
import dev.anvil.db.Artifact;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.AttestationStore;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.LineageGraph;
import dev.anvil.db.LineageStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.storage.ChecksumMismatchException;
import dev.anvil.storage.ObjectStore;
import dev.anvil.storage.PutResult;
import dev.anvil.storage.StoredObject;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/api/artifacts")
@Tag(name = "artifacts")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class ArtifactResource {
    @Inject CurrentCaller caller;
    static final String EXPECTED_SHA_HEADER = "X-Anvil-Sha256";
    static final String SHA256_PATTERN = "^[0-9a-fA-F]{64}$";
    // a presigned URL is a bearer credential no token revocation can recall: keep it short-lived
    private static final Duration MAX_URL_EXPIRY = Duration.ofHours(1);

    @Inject ObjectStore objects;
    @Inject ArtifactStore artifacts;
    @Inject TaskRunStore taskRuns;
    @Inject LineageStore lineage;
    @Inject AuditLogStore audit;
    @Inject AttestationStore attestationStore;
    @Inject SigningKey provenanceKey;
    @Inject ObjectMapper json;

    /**
     * Streams the request body into the artifact store. The body is never held in memory; its sha256
     * is computed on the way and the object published under it only once known (and equal to
     * {@code X-Anvil-Sha256} or {@code ?sha256=} when given).
     */
    @POST
    @Consumes(MediaType.WILDCARD)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    @Operation(summary = "Upload an artifact (streaming; role submitter or admin)", description = "The body is streamed "
            + "into object storage; its sha256 is computed on the way and the object is published under it only once "
            + "known. Uploading bytes that are already stored is a no-op that answers the existing artifact (200 "
            + "instead of 201).")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_OCTET_STREAM,
            schema = @Schema(type = SchemaType.STRING, format = "binary")))
    @APIResponse(responseCode = "201", description = "stored; Location is the artifact",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = UploadResult.class)))
    @APIResponse(responseCode = "200", description = "the same bytes were already stored",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = UploadResult.class)))
    @APIResponse(responseCode = "400", description = "the expected checksum is not a sha256, or mediaType is not a type/subtype")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role submitter or admin")
    @APIResponse(responseCode = "422", description = "the bytes do not hash to the expected checksum; nothing was stored")
    @StreamedBody
    public Response upload(InputStream body,
                           @HeaderParam("Content-Type") String contentType,
                           @Parameter(description = "media type to record (default: the Content-Type, else "
                                   + "application/octet-stream)", example = "application/vnd.onnx")
                           @QueryParam("mediaType") String mediaTypeParam,
                           @Parameter(description = "expected sha256; a mismatch stores nothing")
                           @QueryParam("sha256") String expectedParam,
                           @Parameter(description = "expected sha256 (same as ?sha256=)")
                           @HeaderParam(EXPECTED_SHA_HEADER) String expectedHeader) throws IOException {
        String expectedRaw = expectedParam != null ? expectedParam : expectedHeader;
        Optional<String> expected = expectedRaw == null || expectedRaw.isBlank()
                ? Optional.empty()
                : Optional.of(Sha256Param.require(expectedParam != null ? "sha256" : EXPECTED_SHA_HEADER, expectedRaw));
        String mediaType = mediaType(mediaTypeParam, contentType);
        PutResult put;
        try (InputStream in = body) {
            put = objects.put(in, mediaType, expected);
        } catch (ChecksumMismatchException e) {
            throw ProblemException.unprocessable(expectedParam != null ? "sha256" : EXPECTED_SHA_HEADER,
                    "the uploaded bytes hash to " + e.actual() + ", not the expected " + e.expected()
                            + "; nothing was stored. Check that the file is complete and the checksum is the file's.");
        }
        StoredObject ref = put.ref();
        Artifact row = artifacts.insert(ref.sha256(), ref.uri(), ref.size(), ref.mediaType(), null);
        if (put.created()) {
            audit.append(caller.name(), "artifact.uploaded", "artifact:" + ref.sha256(),
                    "{\"size\":" + ref.size() + "}", "artifact.uploaded:" + ref.sha256());
        }
        ArtifactView view = ArtifactView.of(row);
        Response.ResponseBuilder response = put.created()
                ? Response.created(URI.create("/api/artifacts/" + ref.sha256()))
                : Response.ok();
        return response.entity(new UploadResult(view, put.created())).build();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Path("/{sha256}")
    @Operation(summary = "Artifact metadata")
    @APIResponse(responseCode = "200", description = "the artifact")
    @APIResponse(responseCode = "400", description = "the path is not a sha256")
    @APIResponse(responseCode = "404", description = "no artifact with this sha256")
    public ArtifactView metadata(@Parameter(description = "the artifact's sha256", schema = @Schema(type = SchemaType.STRING, pattern = SHA256_PATTERN)) @PathParam("sha256") String sha256) {
        return ArtifactView.of(find(sha256));
    }

    /** The bytes, verified against the sha256 while they stream; a mismatch aborts the response. */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Path("/{sha256}/content")
    @Produces(MediaType.WILDCARD)
    @Operation(summary = "Download the bytes", description = "Verified against the sha256 while streaming; a mismatch "
            + "aborts the response, so a client never receives wrong bytes. Always a download (Content-Disposition: "
            + "attachment, X-Content-Type-Options: nosniff). The Content-Type is the artifact's media type when it is one "
            + "of application/octet-stream, application/onnx, application/vnd.onnx, application/x-onnx, application/json, "
            + "application/yaml, application/zip, application/vnd.anvil.dataset+zip, text/plain or text/csv; any other "
            + "(text/html, image/svg+xml, ...) is served as application/octet-stream.")
    @APIResponse(responseCode = "200", description = "the bytes",
            content = @Content(mediaType = MediaType.WILDCARD, schema = @Schema(type = SchemaType.STRING, format = "binary")))
    @APIResponse(responseCode = "400", description = "the path is not a sha256")
    @APIResponse(responseCode = "404", description = "no artifact with this sha256")
    public Response content(@Parameter(description = "the artifact's sha256", schema = @Schema(type = SchemaType.STRING, pattern = SHA256_PATTERN)) @PathParam("sha256") String sha256) {
        Artifact artifact = find(sha256);
        StoredObject ref = new StoredObject(artifact.uri(), artifact.sha256(), artifact.sizeBytes(), artifact.mediaType());
        StreamingOutput stream = out -> {
            try (InputStream in = objects.open(ref)) {
                in.transferTo(out);
            }
        };
        // a download, never a page: uploaded bytes must not run as script on this origin (the reviewer UI's)
        return Response.ok(stream, ServedContentType.of(artifact.mediaType()))
                .header("Content-Length", artifact.sizeBytes())
                .header("Content-Disposition", "attachment; filename=\"" + artifact.sha256() + "\"")
                .header("X-Content-Type-Options", "nosniff")
                .header(EXPECTED_SHA_HEADER, artifact.sha256())
                .build();
    }

    /** A presigned URL for fetching the bytes straight from object storage. */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Path("/{sha256}/url")
    @Operation(summary = "A presigned URL to fetch the bytes straight from object storage",
            description = "The URL makes object storage answer with Content-Disposition: attachment, so a browser "
                    + "downloads the bytes instead of showing them.")
    @APIResponse(responseCode = "200", description = "url and expiresAt")
    @APIResponse(responseCode = "400", description = "the path is not a sha256, or expiresIn is outside 1..3600")
    @APIResponse(responseCode = "404", description = "no artifact with this sha256")
    public Map<String, Object> presignedUrl(@Parameter(description = "the artifact's sha256", schema = @Schema(type = SchemaType.STRING, pattern = SHA256_PATTERN)) @PathParam("sha256") String sha256,
                                            @Parameter(description = "seconds the URL stays valid (1..3600, default 3600)",
                                                    schema = @Schema(type = SchemaType.INTEGER, minimum = "1",
                                                            maximum = "3600", defaultValue = "3600"))
                                            @QueryParam("expiresIn") String expiresIn) {
        Artifact artifact = find(sha256);
        Duration expiry = parseExpiry(expiresIn);
        return Map.of("url", objects.presignedGetUrl(artifact.sha256(), expiry),
                "expiresAt", Instant.now().plus(expiry).toString());
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Path("/{sha256}/lineage")
    @Operation(summary = "Ancestors and descendants of an artifact as a graph",
            description = "W3C PROV used/generated edges between artifacts and task runs, nearest first.")
    @APIResponse(responseCode = "200", description = "the lineage")
    @APIResponse(responseCode = "400", description = "the path is not a sha256")
    @APIResponse(responseCode = "404", description = "no artifact with this sha256")
    public LineageView lineage(@Parameter(description = "the artifact's sha256", schema = @Schema(type = SchemaType.STRING, pattern = SHA256_PATTERN)) @PathParam("sha256") String sha256) {
        Artifact artifact = find(sha256);
        LineageGraph up = lineage.ancestors(artifact.sha256()).orElseThrow();
        LineageGraph down = lineage.descendants(artifact.sha256()).orElseThrow();
        return new LineageView(artifact.sha256(), graph(up), graph(down));
    }

    @GET
    @Path("/{sha256}/attestations")
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @Operation(summary = "Signed provenance of an artifact (role viewer)",
            description = "DSSE envelopes of in-toto statements (SLSA Provenance v1) that the task attempts which"
                    + " published the artifact signed, with the public key that verifies them. See docs/provenance.md.")
    @APIResponse(responseCode = "200", description = "the envelopes and the key")
    @APIResponse(responseCode = "400", description = "the path is not a sha256")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer")
    @APIResponse(responseCode = "404", description = "no artifact with this sha256")
    public AttestationsView attestations(@Parameter(description = "the artifact's sha256", schema = @Schema(type = SchemaType.STRING, pattern = SHA256_PATTERN)) @PathParam("sha256") String sha256) {
        Artifact artifact = find(sha256);
        List<AttestationsView.Item> items = attestationStore.forArtifact(artifact.sha256()).stream().map(a -> {
            Optional<TaskRun> run = taskRuns.find(a.taskRunId());
            return new AttestationsView.Item(a.taskRunId(), run.map(TaskRun::runId).orElse(null),
                    run.map(TaskRun::taskId).orElse(null), run.map(TaskRun::attempt).orElse(null),
                    a.createdAt().toString(), readJson(a.envelopeJson()));
        }).toList();
        return new AttestationsView(artifact.sha256(), ProvenanceKeyView.of(provenanceKey), items);
    }

    private JsonNode readJson(String text) {
        try {
            return json.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The answer to an upload: the artifact, and whether these bytes were new. */
    public record UploadResult(ArtifactView artifact, boolean created) {}

    private LineageView.Graph graph(LineageGraph g) {
        List<LineageView.Node> nodes = g.nodes().stream().map(this::node).toList();
        List<LineageView.Edge> edges = g.edges().stream()
                .map(e -> new LineageView.Edge(e.from(), e.to(), e.relation().sqlValue(), e.role()))
                .toList();
        return new LineageView.Graph(nodes, edges, g.truncated());
    }

    private LineageView.Node node(LineageGraph.Node n) {
        if (n.kind() == LineageGraph.NodeKind.ARTIFACT) {
            String mediaType = artifacts.find(n.id()).map(Artifact::mediaType).orElse(null);
            return new LineageView.Node("artifact", n.id(), n.depth(), mediaType, null, null, null, null, null);
        }
        Optional<TaskRun> run = taskRuns.find(Long.parseLong(n.id()));
        return new LineageView.Node("task_run", n.id(), n.depth(), null,
                run.map(TaskRun::runId).orElse(null), run.map(TaskRun::taskId).orElse(null),
                run.map(TaskRun::attempt).orElse(null), run.map(TaskRun::operator).orElse(null),
                run.map(TaskRun::status).orElse(null));
    }

    private Artifact find(String sha256) {
        String sha = Sha256Param.require("sha256", sha256);
        return artifacts.find(sha).orElseThrow(() -> ProblemException.notFound(
                "no artifact with sha256 " + sha + "; upload it with POST /api/artifacts"));
    }

    private static final java.util.regex.Pattern MEDIA_TYPE =
            java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*");

    private static String mediaType(String param, String contentType) {
        if (param != null && !param.isBlank()) {
            String type = param.trim();
            if (!MEDIA_TYPE.matcher(type).matches()) {
                String hint = type.contains(" ") ? "; a '+' in a query string must be written %2B (a bare '+' means a"
                        + " space), e.g. mediaType=application/vnd.anvil.dataset%2Bzip" : "";
                throw ProblemException.badRequest("mediaType", "mediaType '" + type + "' is not a type/subtype such as"
                        + " application/octet-stream" + hint);
            }
            return type;
        }
        if (contentType == null || contentType.isBlank()) {
            return MediaType.APPLICATION_OCTET_STREAM;
        }
        String type = contentType.split(";")[0].trim().toLowerCase(Locale.ROOT);
        // curl --data-binary sends a form content type by default; it says nothing about the bytes
        return type.equals(MediaType.APPLICATION_FORM_URLENCODED) ? MediaType.APPLICATION_OCTET_STREAM : type;
    }

    private static Duration parseExpiry(String value) {
        if (value == null || value.isBlank()) {
            return Duration.ofHours(1);
        }
        try {
            Duration d = Duration.ofSeconds(Long.parseLong(value.trim()));
            if (d.isNegative() || d.isZero() || d.compareTo(MAX_URL_EXPIRY) > 0) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("expiresIn",
                    "'expiresIn' must be a number of seconds between 1 and " + MAX_URL_EXPIRY.toSeconds()
                    + " (a presigned URL cannot be revoked, so it lives at most an hour), got '" + value + "'");
        }
    }
}
