package dev.anvil.api.auth;

import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.AuditEntry;
import dev.anvil.db.AuditLogStore;
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

/** The audit log, newest first: who did what to which subject (e.g. run:&lt;id&gt;). Reviewers and admins only. */
@Path("/api/audit")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class AuditResource {
    @Inject AuditLogStore audit;

    @GET
    @RolesAllowed({Roles.REVIEWER, Roles.ADMIN})
    public List<AuditEntry> list(@QueryParam("subject") String subject, @QueryParam("limit") @DefaultValue("100") int limit) {
        if (limit < 1 || limit > 1000) {
            throw ProblemException.badRequest("limit", "'limit' must be between 1 and 1000, got " + limit);
        }
        return subject == null ? audit.listRecent(limit) : audit.listBySubject(subject, limit);
    }
}
