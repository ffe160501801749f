package dev.anvil.api.artifacts;

import dev.anvil.activities.storage.ChecksumMismatchException;
import dev.anvil.activities.storage.ObjectStore;
import dev.anvil.activities.storage.PutResult;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Artifact;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.LineageGraph;
import dev.anvil.db.LineageStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.ArtifactRef;
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

@Path("/api/artifacts")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class ArtifactResource {
    @Inject CurrentCaller caller;
    static final String EXPECTED_SHA_HEADER = "X-Anvil-Sha256";
    private static final Duration MAX_URL_EXPIRY = Duration.ofDays(7);

    @Inject ObjectStore objects;
    @Inject ArtifactStore artifacts;
    @Inject TaskRunStore taskRuns;
    @Inject LineageStore lineage;
    @Inject AuditLogStore audit;

    /**
     * Streams the request body into the artifact store. The body is never held in memory; its sha256
     * is computed on the way and the object published under it only once known (and equal to
     * {@code X-Anvil-Sha256} or {@code ?sha256=} when given).
     */
    @POST
    @Consumes(MediaType.WILDCARD)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    public Response upload(InputStream body,
                           @HeaderParam("Content-Type") String contentType,
                           @QueryParam("mediaType") String mediaTypeParam,
                           @QueryParam("sha256") String expectedParam,
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
        ArtifactRef ref = put.ref();
        Artifact row = artifacts.insert(ref.sha256(), ref.uri(), ref.size(), ref.mediaType(), null);
        if (put.created()) {
            audit.append(caller.name(), "artifact.uploaded", "artifact:" + ref.sha256(),
                    "{\"size\":" + ref.size() + "}", "artifact.uploaded:" + ref.sha256());
        }
        ArtifactView view = ArtifactView.of(row);
        Response.ResponseBuilder response = put.created()
                ? Response.created(URI.create("/api/artifacts/" + ref.sha256()))
                : Response.ok();
        return response.entity(Map.of("artifact", view, "created", put.created())).build();
    }

    @GET
    @Path("/{sha256}")
    public ArtifactView metadata(@PathParam("sha256") String sha256) {
        return ArtifactView.of(find(sha256));
    }

    /** The bytes, verified against the sha256 while they stream; a mismatch aborts the response. */
    @GET
    @Path("/{sha256}/content")
    @Produces(MediaType.WILDCARD)
    public Response content(@PathParam("sha256") String sha256) {
        Artifact artifact = find(sha256);
        ArtifactRef ref = new ArtifactRef(artifact.uri(), artifact.sha256(), artifact.sizeBytes(), artifact.mediaType());
        StreamingOutput stream = out -> {
            try (InputStream in = objects.open(ref)) {
                in.transferTo(out);
            }
        };
        return Response.ok(stream, artifact.mediaType())
                .header("Content-Length", artifact.sizeBytes())
                .header(EXPECTED_SHA_HEADER, artifact.sha256())
                .build();
    }

    /** A presigned URL for fetching the bytes straight from object storage. */
    @GET
    @Path("/{sha256}/url")
    public Map<String, Object> presignedUrl(@PathParam("sha256") String sha256,
                                            @QueryParam("expiresIn") String expiresIn) {
        Artifact artifact = find(sha256);
        Duration expiry = parseExpiry(expiresIn);
        return Map.of("url", objects.presignedGetUrl(artifact.sha256(), expiry),
                "expiresAt", Instant.now().plus(expiry).toString());
    }

    @GET
    @Path("/{sha256}/lineage")
    public LineageView lineage(@PathParam("sha256") String sha256) {
        Artifact artifact = find(sha256);
        LineageGraph up = lineage.ancestors(artifact.sha256()).orElseThrow();
        LineageGraph down = lineage.descendants(artifact.sha256()).orElseThrow();
        return new LineageView(artifact.sha256(), graph(up), graph(down));
    }

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
                    "'expiresIn' must be a number of seconds between 1 and " + MAX_URL_EXPIRY.toSeconds() + ", got '" + value + "'");
        }
    }
}
