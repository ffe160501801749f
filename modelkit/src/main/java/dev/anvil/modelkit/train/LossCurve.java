package dev.anvil.modelkit.train;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleConsumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The average loss per epoch of a Tribuo SGD trainer. Tribuo reports it only as a log line ("At iteration N,
 * average loss = L") every {@code loggingInterval} minibatches; with one epoch's minibatches as the interval that
 * is one point per epoch. Lines are caught on the training thread only, so trainings on other threads of the same
 * worker do not mix, and they are kept out of the worker's log (the curve is reported as task metrics instead).
 */
final class LossCurve implements AutoCloseable {
    /** A loss line; the value is a decimal number, NaN, or an infinity with its sign (a diverged objective). */
    static final Pattern LINE = Pattern.compile(
            "At iteration (\\d+), average loss = ([-+]?(?:Infinity|NaN|(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?))");
    private static final ThreadLocal<LossCurve> CURRENT = new ThreadLocal<>();
    /** Held, so the configured logger is not collected and its settings lost. */
    private static final Logger SGD_LOGGER = Logger.getLogger("org.tribuo.common.sgd.AbstractSGDTrainer");

    static {
        SGD_LOGGER.setLevel(Level.INFO);
        SGD_LOGGER.setUseParentHandlers(false);
        SGD_LOGGER.addHandler(new Handler() {
            @Override
            public void publish(LogRecord record) {
                LossCurve curve = CURRENT.get();
                if (curve != null && record.getMessage() != null) {
                    Matcher m = LINE.matcher(record.getMessage());
                    if (m.find()) {
                        // Tribuo's objectives report the value they climb (log-likelihood, minus half the squared
                        // error), so the loss is its negation
                        curve.add(-Double.parseDouble(m.group(2)));
                    }
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        });
    }

    private final List<Double> losses = new ArrayList<>();
    private final DoubleConsumer onEpoch;

    private LossCurve(DoubleConsumer onEpoch) {
        this.onEpoch = onEpoch;
    }

    /** Starts catching this thread's loss lines until {@link #close()}. */
    static LossCurve record(DoubleConsumer onEpoch) {
        LossCurve curve = new LossCurve(onEpoch);
        CURRENT.set(curve);
        return curve;
    }

    private void add(double loss) {
        losses.add(loss);
        onEpoch.accept(loss);
    }

    List<Double> losses() {
        return List.copyOf(losses);
    }

    @Override
    public void close() {
        CURRENT.remove();
    }
}
