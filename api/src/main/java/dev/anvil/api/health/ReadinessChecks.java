package dev.anvil.api.health;

import dev.anvil.api.config.AnvilConfig;
import dev.anvil.storage.ObjectStore;
import io.agroal.api.AgroalDataSource;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.serviceclient.WorkflowServiceStubs;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready only when Temporal, the S3 store and PostgreSQL all answer; Temporal's check names the schedule backend too. */
@ApplicationScoped
public class ReadinessChecks {

    @Produces
    @Readiness
    @ApplicationScoped
    HealthCheck postgresql(AgroalDataSource dataSource) {
        return new DatabaseCheck(dataSource);
    }

    @Produces
    @Readiness
    @ApplicationScoped
    HealthCheck temporal(WorkflowServiceStubs stubs, AnvilConfig config, dev.anvil.api.pipelines.Schedules schedules) {
        return () -> {
            try {
                stubs.blockingStub().withDeadlineAfter(2, TimeUnit.SECONDS)
                        .getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
                return HealthCheckResponse.named("temporal").up().withData("target", config.temporal().target())
                        .withData("schedules", schedules.backendName()).build();
            } catch (RuntimeException e) {
                return HealthCheckResponse.named("temporal").down()
                        .withData("target", config.temporal().target())
                        .withData("error", String.valueOf(e.getMessage())).build();
            }
        };
    }

    @Produces
    @Readiness
    @ApplicationScoped
    HealthCheck objectStore(ObjectStore objects, AnvilConfig config) {
        return () -> {
            try {
                objects.ensureBucket();
                return HealthCheckResponse.named("s3").up()
                        .withData("endpoint", config.s3().endpoint()).withData("bucket", config.s3().bucket()).build();
            } catch (RuntimeException e) {
                return HealthCheckResponse.named("s3").down()
                        .withData("endpoint", config.s3().endpoint())
                        .withData("error", String.valueOf(e.getMessage())).build();
            }
        };
    }
}
