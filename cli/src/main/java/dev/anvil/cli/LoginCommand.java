package dev.anvil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "login", description = "Check a server and token and keep them in ~/.anvil/config (mode 600).")
public class LoginCommand extends ApiCommand {
    @Option(names = "--server", paramLabel = "URL", description = "Anvil's base URL (default: ANVIL_SERVER, "
            + "the configured one, or " + CliConfig.DEFAULT_SERVER + ")")
    String server;

    @Option(names = "--token", paramLabel = "TOKEN", required = true, description = "an API token (./anvil status "
            + "prints the local demo tokens; anvil tokens create makes more)")
    String token;

    @Override
    protected void run() {
        String target = CliConfig.stripSlash(server != null ? server : CliConfig.resolve(ctx()).server());
        if (!target.startsWith("http://") && !target.startsWith("https://")) {
            throw CliException.usage("--server must be an http:// or https:// URL, got '" + target + "'");
        }
        // check before keeping: a typo in the URL or a revoked token should fail here, not on the next command
        JsonNode me = new ApiClient(target, token.trim()).get("/api/me");
        Path file = CliConfig.save(ctx(), target, token.trim());
        out().println("logged in to " + target + " as " + me.path("principal").asText(me.path("name").asText("?"))
                + " (roles " + Output.cell(me.path("roles")) + "); kept in " + file);
    }
}
