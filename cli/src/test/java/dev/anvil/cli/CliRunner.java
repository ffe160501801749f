package dev.anvil.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Runs the CLI in-process with a given environment, home folder and terminal flag, capturing its streams. */
final class CliRunner {
    record Result(int code, String out, String err) {}

    final Map<String, String> env = new HashMap<>();
    final Path home;
    boolean tty;

    CliRunner(Path home) {
        this.home = home;
    }

    CliRunner server(String url, String token) {
        env.put("ANVIL_SERVER", url);
        env.put("ANVIL_TOKEN", token);
        return this;
    }

    Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CliContext ctx = new CliContext(Map.copyOf(env), home, new PrintWriter(out, true), new PrintWriter(err, true), tty);
        int code = new AnvilCli(ctx).execute(args);
        return new Result(code, out.toString(), err.toString());
    }
}
