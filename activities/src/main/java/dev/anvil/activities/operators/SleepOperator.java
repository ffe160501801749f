package dev.anvil.activities.operators;

import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.util.Map;

/** Waits {@code with.seconds}, heartbeating every second, so a cancel stops it promptly. */
public final class SleepOperator implements Operator {
    static final double MAX_SECONDS = 3600;

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.SLEEP;
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws InterruptedException {
        Object value = with.get("seconds");
        if (!(value instanceof Number n) || n.doubleValue() < 0 || n.doubleValue() > MAX_SECONDS) {
            throw new InvalidTaskInputException("sleep needs with.seconds, a number from 0 to " + (int) MAX_SECONDS
                    + "; got " + value);
        }
        long remaining = Math.round(n.doubleValue() * 1000);
        while (remaining > 0) {
            long step = Math.min(remaining, 1000);
            Thread.sleep(step);
            remaining -= step;
            context.heartbeat(remaining);
        }
        return Map.of("slept_seconds", n);
    }
}
