package dev.anvil.api.airflow;

import dev.anvil.api.auth.Roles;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.PipelineVersion;
import dev.anvil.workflows.pipeline.spec.SpecException;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Airflow's import errors. Anvil refuses an invalid spec when it is registered (422, nothing stored), so the
 * only specs that fail to load are stored ones the current operators no longer accept (an operator renamed or
 * its options changed): each pipeline whose newest version fails is one import error. Usually the list is empty.
 */
@Path("/api/v2/importErrors")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class AirflowImportErrorResource {
    @Inject PipelineStore pipelines;
    @Context UriInfo uri;

    @GET
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> list() {
        AirflowQuery q = new AirflowQuery(uri.getQueryParameters());
        q.like("filename_pattern", "filename");
        return q.collection("import_errors", errors(), "id",
                Set.of("import_error_id", "timestamp", "filename", "bundle_name"), Map.of("id", "import_error_id"), 50);
    }

    @GET
    @Path("/{import_error_id}")
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> get(@PathParam("import_error_id") String id) {
        int wanted;
        try {
            wanted = Integer.parseInt(id);
        } catch (NumberFormatException e) {
            throw AirflowException.invalid("int_parsing", "Input should be a valid integer, unable to parse string as"
                    + " an integer", "path", "import_error_id");
        }
        return errors().stream().filter(e -> e.get("import_error_id").equals(wanted)).findFirst()
                .orElseThrow(() -> AirflowException.notFound("The ImportError with import_error_id: `" + id
                        + "` was not found"));
    }

    private List<Map<String, Object>> errors() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (PipelineVersion v : pipelines.listLatest()) {
            String trace;
            try {
                SpecLoader.load(v.spec(), AirflowViews.OPERATORS, Set.of());
                continue;
            } catch (SpecException e) {
                trace = e.errors().stream().map(err -> err.path() + ": " + err.message()).collect(Collectors.joining("\n"));
            } catch (RuntimeException e) {
                trace = String.valueOf(e.getMessage());
            }
            Map<String, Object> m = new LinkedHashMap<>();
            // stable across calls: Anvil has no numeric id for a version, so the id is derived from its name
            m.put("import_error_id", (v.pipeline() + "@" + v.version()).hashCode() & 0x7fffffff);
            m.put("timestamp", AirflowViews.time(v.createdAt()));
            m.put("filename", "/api/pipelines/" + v.pipeline() + " (version " + v.version() + ")");
            m.put("bundle_name", null);
            m.put("stack_trace", trace);
            out.add(m);
        }
        return out;
    }
}
