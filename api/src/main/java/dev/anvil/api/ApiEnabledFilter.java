package dev.anvil.api;

import dev.anvil.api.config.AnvilConfig;
import dev.anvil.api.problem.Problem;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Response;
import java.util.List;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/** A worker-only process (anvil.api.enabled=false) keeps /q/health but answers /api with 503. */
public class ApiEnabledFilter {
    // a Provider: filters are built at static init, before runtime configuration exists
    @Inject Provider<AnvilConfig> config;
    // read once: each config.get() builds the configuration mapping anew, on every request
    private volatile Boolean enabled;

    @ServerRequestFilter(preMatching = true)
    public Response refuseWhenWorkerOnly(ContainerRequestContext request) {
        Boolean on = enabled;
        if (on == null) {
            on = config.get().api().enabled();
            enabled = on;
        }
        if (on || !request.getUriInfo().getPath().startsWith("/api")) {
            return null;
        }
        Problem problem = new Problem("about:blank", "Service unavailable", 503,
                "this process runs as a worker only (ANVIL_API_ENABLED=false); send API calls to an API process",
                request.getUriInfo().getPath(), List.of());
        return Response.status(503).type(Problem.MEDIA_TYPE).entity(problem).build();
    }
}
