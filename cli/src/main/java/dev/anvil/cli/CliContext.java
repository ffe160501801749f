package dev.anvil.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the CLI takes from the process (environment, home folder, terminal, streams), handed in so tests run
 * it in-process against a stub server.
 *
 * @param env            the environment ({@code ANVIL_SERVER}, {@code ANVIL_TOKEN}, {@code ANVIL_CONFIG})
 * @param home           the user's home folder; the config lives in {@code ~/.anvil/config}
 * @param out            where results go
 * @param err            where errors, progress bars and hints go
 * @param tty            whether stdout is a terminal (live views redraw in place, progress bars show)
 */
public record CliContext(Map<String, String> env, Path home, PrintWriter out, PrintWriter err, boolean tty) {

    public static CliContext fromProcess() {
        return new CliContext(System.getenv(), Path.of(System.getProperty("user.home")),
                new PrintWriter(System.out, true), new PrintWriter(System.err, true), System.console() != null);
    }

    public String env(String name) {
        String value = env.get(name);
        return value == null || value.isBlank() ? null : value.trim();
    }
}
