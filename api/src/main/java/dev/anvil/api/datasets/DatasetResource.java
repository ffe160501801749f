package dev.anvil.api.datasets;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.artifacts.ArtifactView;
import dev.anvil.api.auth.AuditTrail;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.config.AnvilConfig;
import dev.anvil.api.limits.StreamedBody;
import dev.anvil.api.problem.Problem;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Artifact;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.DatasetStore;
import dev.anvil.db.DatasetVersion;
import dev.anvil.storage.ObjectStore;
import dev.anvil.storage.PutResult;
import dev.anvil.storage.StoredObject;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.BeanParam;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Named, versioned datasets. {@code POST} imports a file (MNIST IDX, CSV, TSV text, a zip of {@code .npy}
 * files or a zip of images) into Anvil's dataset format, checks it against the declared inputs (and a
 * model's, when named) and registers it as the next version of its name; the bytes are an artifact like any
 * other, so pipelines take them by sha256.
 */
@Path("/api/datasets")
@Tag(name = "datasets")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class DatasetResource {
    public static final String MEDIA_TYPE = "application/vnd.anvil.dataset+zip";

    @Inject CurrentCaller caller;
    @Inject AuditTrail trail;
    @Inject DatasetStore datasets;
    @Inject ArtifactStore artifacts;
    @Inject ObjectStore objects;
    @Inject DatasetImports imports;
    @Inject AnvilConfig config;
    @Inject ObjectMapper json;
    @Inject dev.anvil.activities.pipeline.EventTriggers eventTriggers;

    @POST
    @Consumes(MediaType.WILDCARD)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @StreamedBody
    @Operation(summary = "Import a dataset and register its next version (role submitter or admin)",
            description = "The body is the file to import, as the format names it: mnist, a zip of the images and"
                    + " labels IDX files (gzipped or not); csv, a CSV file (gzipped or not) with column roles; text, a"
                    + " TSV file tokenised with an uploaded tokenizer.json; npy, a zip of .npy files (Anvil's dataset"
                    + " format, checked entry by entry); images, a zip of PNG/JPEG files resized and normalised, labels"
                    + " from folder names or labels.csv. The dataset is checked against the declared inputs and the"
                    + " named model's inputs now, not when a pipeline first feeds it. The body is held to"
                    + " anvil.datasets.max-upload-bytes, archives to anvil.datasets.max-archive-entries entries and"
                    + " anvil.datasets.max-inflated-bytes inflated. Every upload adds a version, stored as an artifact"
                    + " of media type " + MEDIA_TYPE + ".")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_OCTET_STREAM,
            schema = @Schema(type = SchemaType.STRING, format = "binary")))
    @APIResponse(responseCode = "201", description = "registered; Location is the version",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = DatasetView.class)))
    @APIResponse(responseCode = "400", description = "a parameter is missing or malformed (name, format, declare, an"
            + " importer option); errors names it")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role submitter or admin")
    @APIResponse(responseCode = "413", description = "the body is larger than anvil.datasets.max-upload-bytes")
    @APIResponse(responseCode = "422", description = "the body cannot be imported (naming the file's line, column,"
            + " archive entry or array), does not match the declared inputs or the model's, or the tokenizer or model"
            + " artifact is not stored; nothing was registered")
    public Response register(InputStream body, @BeanParam ImportRequest request,
                             @HeaderParam(HttpHeaders.CONTENT_LENGTH) String contentLength) throws IOException {
        String name = request.name();
        ImportRequest.Format format = request.format();
        Map<String, DeclaredInputs.Spec> declared = DeclaredInputs.parse(request.declare);
        long limit = config.datasets().maxUploadBytes();
        refuseAnnouncedLength(contentLength, limit);
        java.nio.file.Path work = Files.createTempDirectory("anvil-dataset-");
        try {
            java.nio.file.Path upload = work.resolve("upload");
            receive(body, upload, limit);
            DatasetImports.Imported imported = imports.run(format, request, upload, work);
            DeclaredInputs.check(declared, imported.inputs());
            imports.checkModel(request.model, imported.inputs(), work);
            PutResult put;
            try (InputStream in = Files.newInputStream(imported.zip())) {
                put = objects.put(in, MEDIA_TYPE, java.util.Optional.empty());
            }
            StoredObject ref = put.ref();
            Artifact artifact = artifacts.insert(ref.sha256(), ref.uri(), ref.size(), ref.mediaType(), null);
            DatasetVersion version = datasets.register(name, ref.sha256(), format.id(), inputsJson(imported.inputs()),
                    imported.sampleCount(), imported.hasLabels(), caller.name());
            trail.record("dataset.registered", "dataset:" + name + "@" + version.version(), "artifact", ref.sha256(),
                    "format", format.id(), "samples", imported.sampleCount());
            startListeningPipelines(version);
            return Response.created(URI.create(self(version)))
                    .entity(view(version, artifact, imported.classes())).build();
        } finally {
            deleteTree(work);
        }
    }

    /**
     * A new version is an event: pipelines whose schedule.on lists {dataset: <name>} start (once per version;
     * a start that fails now stays pending and is retried at start-up). The registration stands either way.
     */
    private void startListeningPipelines(DatasetVersion version) {
        try {
            eventTriggers.fire(dev.anvil.workflows.pipeline.spec.EventTrigger.DATASET, version.dataset(),
                    "dataset:" + version.dataset() + "@" + version.version(), "{\"version\": " + version.version() + "}",
                    caller.name());
        } catch (RuntimeException e) {
            org.jboss.logging.Logger.getLogger(DatasetResource.class).warnf("dataset %s@%d is registered, but the"
                    + " pipelines listening for it could not be started: %s", version.dataset(), version.version(),
                    e.getMessage());
        }
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @Operation(summary = "Every dataset with its newest version (role viewer)")
    @APIResponse(responseCode = "200", description = "the newest version of each dataset, by name")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    public List<DatasetView> list() {
        return datasets.listLatest().stream().map(this::view).toList();
    }

    @GET
    @Path("/{name}")
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @Operation(summary = "A dataset's versions, newest first (role viewer)")
    @APIResponse(responseCode = "200", description = "the versions")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @APIResponse(responseCode = "404", description = "no dataset of this name")
    public Map<String, Object> versions(@Parameter(description = "the dataset's name") @PathParam("name") String name) {
        List<DatasetVersion> versions = datasets.versions(name);
        if (versions.isEmpty()) {
            throw ProblemException.notFound("no dataset named '" + name + "'; GET /api/datasets lists them, POST"
                    + " /api/datasets?name=" + name + "&format=... registers one");
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("name", name);
        answer.put("latest", versions.get(0).version());
        answer.put("versions", versions.stream().map(this::view).toList());
        return answer;
    }

    @GET
    @Path("/{name}/versions/{version}")
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @Operation(summary = "One version of a dataset, with its artifact's sha256 (role viewer)")
    @APIResponse(responseCode = "200", description = "the version")
    @APIResponse(responseCode = "400", description = "the version is not a positive number")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @APIResponse(responseCode = "404", description = "no such dataset or version")
    public DatasetView version(@Parameter(description = "the dataset's name") @PathParam("name") String name,
                               @Parameter(description = "the version number, or latest") @PathParam("version")
                               String version) {
        java.util.Optional<DatasetVersion> found;
        if (version.equals("latest")) {
            found = datasets.latest(name);
        } else {
            int number;
            try {
                number = Integer.parseInt(version);
            } catch (NumberFormatException e) {
                number = 0;
            }
            if (number < 1) {
                throw ProblemException.badRequest("version", "version '" + version + "' must be a positive number or"
                        + " latest");
            }
            found = datasets.find(name, number);
        }
        return view(found.orElseThrow(() -> ProblemException.notFound("dataset '" + name + "' has no version " + version
                + "; GET /api/datasets/" + name + " lists its versions")));
    }

    private static void refuseAnnouncedLength(String contentLength, long limit) {
        if (contentLength == null) {
            return;
        }
        try {
            long length = Long.parseLong(contentLength.strip());
            if (length > limit) {
                throw tooLarge("is " + length + " bytes", limit);
            }
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest(HttpHeaders.CONTENT_LENGTH, "Content-Length is '" + contentLength
                    + "'; it must be the size of the body in bytes");
        }
    }

    /** Copies the body to {@code file}, refusing with 413 at the first byte past the limit. */
    private static void receive(InputStream body, java.nio.file.Path file, long limit) throws IOException {
        try (InputStream in = body; OutputStream out = Files.newOutputStream(file)) {
            byte[] buffer = new byte[65536];
            long total = 0;
            for (int n; (n = in.read(buffer)) > 0; ) {
                total += n;
                if (total > limit) {
                    throw tooLarge("passed " + limit + " bytes while being read", limit);
                }
                out.write(buffer, 0, n);
            }
            if (total == 0) {
                throw ProblemException.badRequest("body", "the body is empty; send the file to import, e.g. curl"
                        + " --data-binary @iris.csv");
            }
        }
    }

    private static ProblemException tooLarge(String howBig, long limit) {
        String detail = "the request body " + howBig + "; POST /api/datasets accepts at most " + limit + " bytes"
                + " (anvil.datasets.max-upload-bytes); split the dataset or raise the limit";
        return new ProblemException(413, "Content too large", detail, List.of(new Problem.FieldError("body", detail)));
    }

    private String inputsJson(Map<String, DeclaredInputs.Spec> inputs) {
        Map<String, Object> map = new LinkedHashMap<>();
        inputs.forEach((name, spec) -> map.put(name, Map.of("dtype", spec.dtype(), "shape", spec.shape())));
        try {
            return json.writeValueAsString(map);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private DatasetView view(DatasetVersion v) {
        Artifact artifact = artifacts.find(v.artifactSha256()).orElseThrow();
        return view(v, artifact, null);
    }

    private DatasetView view(DatasetVersion v, Artifact artifact, List<String> classes) {
        JsonNode inputs;
        try {
            inputs = json.readTree(v.inputsJson());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return new DatasetView(v.dataset(), v.version(), "dataset:" + v.dataset() + "@" + v.version(), v.format(),
                ArtifactView.of(artifact), inputs, v.sampleCount(), v.hasLabels(),
                classes == null || classes.isEmpty() ? null : classes, v.createdBy(), v.createdAt(), self(v));
    }

    private static String self(DatasetVersion v) {
        return "/api/datasets/" + v.dataset() + "/versions/" + v.version();
    }

    private static void deleteTree(java.nio.file.Path dir) {
        try (Stream<java.nio.file.Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // a temporary folder left behind is not the caller's problem
        }
    }
}
