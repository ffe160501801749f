package dev.anvil.modelkit.compile.tensorrt;

/** An engine, manifest or table that cannot be used here, with the reason and what to do; bad input, not retried. */
public final class EngineRefusedException extends IllegalArgumentException {
    public EngineRefusedException(String message) {
        super(message);
    }
}
