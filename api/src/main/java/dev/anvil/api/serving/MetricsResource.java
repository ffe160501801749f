package dev.anvil.api.serving;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;

/**
 * Prometheus metrics in the text format. Served by hand from Micrometer's Prometheus registry:
 * quarkus-micrometer-registry-prometheus is not published for this Quarkus release on our mirror.
 */
@Path("/q/metrics")
public class MetricsResource {
    @Inject PrometheusMeterRegistry meters;

    @GET
    @Produces("text/plain; version=0.0.4; charset=utf-8")
    public String scrape() {
        return meters.scrape();
    }
}
