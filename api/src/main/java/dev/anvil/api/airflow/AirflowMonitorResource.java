package dev.anvil.api.airflow;

import dev.anvil.api.health.DatabaseCheck;
import io.agroal.api.AgroalDataSource;
import io.smallrye.common.annotation.Blocking;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.serviceclient.WorkflowServiceStubs;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.health.HealthCheckResponse;

/**
 * Airflow's unauthenticated version and health routes. The version names the Airflow REST API Anvil follows
 * (3.x) with Anvil as its local part; the scheduler's health is Temporal's, which runs Anvil's workflows, and
 * Anvil has no triggerer or DAG processor, so theirs is null.
 */
@Path("/api/v2")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
@PermitAll
public class AirflowMonitorResource {
    static final String VERSION = "3.1.0+anvil";

    @Inject AgroalDataSource dataSource;
    @Inject WorkflowServiceStubs temporal;

    @GET
    @Path("/version")
    public Map<String, Object> version() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", VERSION);
        m.put("git_version", null);
        return m;
    }

    @GET
    @Path("/monitor/health")
    public Map<String, Object> health() {
        boolean database = new DatabaseCheck(dataSource).call().getStatus() == HealthCheckResponse.Status.UP;
        boolean scheduler;
        try {
            temporal.blockingStub().withDeadlineAfter(2, TimeUnit.SECONDS).getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
            scheduler = true;
        } catch (RuntimeException e) {
            scheduler = false;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("metadatabase", status(database));
        Map<String, Object> s = status(scheduler);
        s.put("latest_scheduler_heartbeat", scheduler ? java.time.Instant.now().toString() : null);
        m.put("scheduler", s);
        Map<String, Object> triggerer = new LinkedHashMap<>();
        triggerer.put("status", null);
        triggerer.put("latest_triggerer_heartbeat", null);
        m.put("triggerer", triggerer);
        m.put("dag_processor", null);
        return m;
    }

    private static Map<String, Object> status(boolean healthy) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", healthy ? "healthy" : "unhealthy");
        return m;
    }
}
