package dev.anvil.api.auth;

import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.AuditEntry;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.AuditVerification;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The audit log, newest first: who did what to which subject (e.g. run:&lt;id&gt;). Reviewers and admins only. */
@Path("/api/audit")
@Tag(name = "audit")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class AuditResource {
    @Inject AuditLogStore audit;

    @GET
    @RolesAllowed({Roles.REVIEWER, Roles.ADMIN})
    @Operation(summary = "The audit log, newest first (role reviewer or admin)",
            description = "Each entry: at, actor, action, subject, details.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "200", description = "the entries")
    @APIResponse(responseCode = "400", description = "limit outside 1..1000")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role reviewer or admin")
    public List<AuditEntry> list(
            @Parameter(description = "only entries about this subject", example = "run:nightly-3f2a") @QueryParam("subject") String subject,
            @Parameter(description = "at most this many (1..1000)") @QueryParam("limit") @DefaultValue("100") int limit) {
        if (limit < 1 || limit > 1000) {
            throw ProblemException.badRequest("limit", "'limit' must be between 1 and 1000, got " + limit);
        }
        return subject == null ? audit.listRecent(limit) : audit.listBySubject(subject, limit);
    }

    @GET
    @Path("/verify")
    @RolesAllowed({Roles.REVIEWER, Roles.ADMIN})
    @Operation(summary = "Check that no audit entry was changed, removed or slipped in (role reviewer or admin)",
            description = "Each entry carries the hash of the one before it and its own hash over its content. "
                    + "This walks the whole chain in order: valid, rows walked, unchainedRows (written before the "
                    + "chain began), and for a broken chain firstBadId and reason. lastHash is the newest entry's "
                    + "hash, the chain's head: a monitor keeps it outside Anvil and passes it back as 'head' on "
                    + "its next check, which is then valid only if the chain still holds that entry. Entries cut "
                    + "off the end, or a log rewritten whole with fresh hashes, fail that check (firstBadId null).")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "200", description = "the verdict; valid=false names the first bad entry")
    @APIResponse(responseCode = "400", description = "head is not a sha256 in lowercase hex")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role reviewer or admin")
    public AuditVerification verify(
            @Parameter(description = "the lastHash an earlier check returned: the chain must still hold that entry")
            @QueryParam("head") String head) {
        if (head != null && !head.matches("[0-9a-f]{64}")) {
            throw ProblemException.badRequest("head", "'head' must be a lastHash from an earlier check: a sha256 in"
                    + " lowercase hex (64 characters 0-9a-f), got '" + head + "'");
        }
        return audit.verify(head);
    }
}
