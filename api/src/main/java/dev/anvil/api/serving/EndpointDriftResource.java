package dev.anvil.api.serving;

import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.DriftReport;
import dev.anvil.db.DriftReportStore;
import dev.anvil.serving.EndpointManager;
import dev.anvil.serving.GatewayException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The drift reports of an endpoint (one per drift check, {@code drift} operator): what the UI's drift panel
 * shows, over REST, with the same access as the endpoint itself.
 */
@Path("/api/endpoints/{name}/drift")
@Tag(name = "endpoints")
@Produces(MediaType.APPLICATION_JSON)
public class EndpointDriftResource {
    @Inject EndpointManager manager;
    @Inject DriftReportStore reports;

    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Operation(summary = "The endpoint's drift reports, newest first, a page at a time", description = "One per drift"
            + " check: the endpoint version checked, the reference dataset and version, drifted (true, false), the"
            + " moved features, the report (per-feature statistics, or drifted null with the reason when too few"
            + " rows were sampled), the run and task that checked, and when.")
    @APIResponse(responseCode = "200", description = "the reports")
    @APIResponse(responseCode = "400", description = "limit outside 1..1000, or a negative page")
    @APIResponse(responseCode = "404", description = "no endpoint of this name")
    public List<DriftReport> list(
            @Parameter(description = "the endpoint's name", schema = @Schema(type = SchemaType.STRING,
                    pattern = EndpointResource.NAME_PATTERN)) @PathParam("name") String name,
            @Parameter(description = "reports per page (1..1000)") @QueryParam("limit") @DefaultValue("50") int limit,
            @Parameter(description = "page number, from 0") @QueryParam("page") @DefaultValue("0") int page) {
        if (limit < 1 || limit > 1000) {
            throw ProblemException.badRequest("limit", "'limit' must be between 1 and 1000, got " + limit);
        }
        if (page < 0) {
            throw ProblemException.badRequest("page", "'page' counts from 0, got " + page);
        }
        requireEndpoint(name);
        return reports.list(name, limit, (int) Math.min(Integer.MAX_VALUE, (long) page * limit));
    }

    @GET
    @Path("/{id}")
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Operation(summary = "One drift report of the endpoint")
    @APIResponse(responseCode = "200", description = "the report")
    @APIResponse(responseCode = "404", description = "no endpoint of this name, or no report with this id on it")
    public DriftReport get(
            @Parameter(description = "the endpoint's name", schema = @Schema(type = SchemaType.STRING,
                    pattern = EndpointResource.NAME_PATTERN)) @PathParam("name") String name,
            @Parameter(description = "the report's id (from the list)", example = "17") @PathParam("id") String id) {
        requireEndpoint(name);
        String missing = "no drift report with id '" + id + "' on endpoint '" + name + "'; list them with GET /api/endpoints/"
                + name + "/drift";
        long reportId;
        try {
            reportId = Long.parseLong(id);
        } catch (NumberFormatException e) {
            throw ProblemException.notFound(missing);
        }
        return reports.find(reportId).filter(r -> r.endpoint().equals(name))
                .orElseThrow(() -> ProblemException.notFound(missing));
    }

    private void requireEndpoint(String name) {
        try {
            manager.find(name);
        } catch (GatewayException e) {
            throw Problems.of(e);
        }
    }
}
