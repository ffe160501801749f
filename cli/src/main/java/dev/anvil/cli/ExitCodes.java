package dev.anvil.cli;

/** The exit codes scripts can test (docs/cli.md lists them). */
public final class ExitCodes {
    public static final int OK = 0;
    /** The server refused the request or failed; its problem {@code detail} went to stderr. */
    public static final int REFUSED = 1;
    /** Bad command line or local configuration (also picocli's usage code). */
    public static final int USAGE = 2;
    /** The server could not be reached. */
    public static final int UNREACHABLE = 3;
    /** A watched run ended failed or cancelled. */
    public static final int RUN_FAILED = 4;

    private ExitCodes() {}
}
