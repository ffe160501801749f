package dev.anvil.activities.command;

/** The command ran and failed (a non-zero exit, a timeout): worth a retry if the task allows one. */
public final class CommandFailedException extends Exception {
    public CommandFailedException(String message) {
        super(message);
    }
}
