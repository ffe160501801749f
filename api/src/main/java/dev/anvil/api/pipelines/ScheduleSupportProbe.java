package dev.anvil.api.pipelines;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.workflowservice.v1.DescribeScheduleRequest;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Asks the Temporal service whether it has the Schedules API, by describing a schedule that does not exist:
 * NOT_FOUND means the API is there, UNIMPLEMENTED (the Java dev server) that it is not. One call, at start-up.
 */
final class ScheduleSupportProbe {

    /** What the service said. */
    enum Support { AVAILABLE, UNAVAILABLE, UNKNOWN }

    /** @param detail what the answer rests on, for the start-up log line */
    record Result(Support support, String detail) {}

    private ScheduleSupportProbe() {}

    static Result probe(WorkflowServiceStubs stubs, String namespace, String target) {
        String id = "anvil-probe-" + UUID.randomUUID();
        try {
            stubs.blockingStub().withDeadlineAfter(10, TimeUnit.SECONDS).describeSchedule(
                    DescribeScheduleRequest.newBuilder().setNamespace(namespace).setScheduleId(id).build());
            return new Result(Support.AVAILABLE, "the Temporal service at " + target + " described a schedule");
        } catch (StatusRuntimeException e) {
            return classify(e.getStatus(), target);
        }
    }

    static Result classify(Status status, String target) {
        return switch (status.getCode()) {
            case NOT_FOUND -> new Result(Support.AVAILABLE,
                    "the Temporal service at " + target + " has the Schedules API");
            case UNIMPLEMENTED -> new Result(Support.UNAVAILABLE, "the Temporal service at " + target
                    + " has no Schedules API (UNIMPLEMENTED; the local dev server is such a service)");
            default -> new Result(Support.UNKNOWN, "could not ask the Temporal service at " + target
                    + " whether it has the Schedules API (" + status.getCode() + ": " + status.getDescription() + ")");
        };
    }
}
