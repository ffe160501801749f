package dev.anvil.cli;

import static dev.anvil.cli.ApiClient.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tokens", description = "API tokens (role admin): create, list, revoke.",
        subcommands = {TokensCommand.Create.class, TokensCommand.List.class, TokensCommand.Revoke.class})
public class TokensCommand extends GroupCommand {

    @Command(name = "create", description = "Make a token; it is shown once, so keep it.")
    static class Create extends ApiCommand {
        @Option(names = "--principal", required = true, description = "the person or service it is for") String principal;
        @Option(names = "--role", required = true, split = ",", paramLabel = "ROLE",
                description = "admin, submitter, reviewer, viewer or invoker (repeatable, or comma-separated)")
        java.util.List<String> roles = new ArrayList<>();
        @Option(names = "--label", description = "what it is for") String label;
        @Option(names = {"-q", "--quiet"}, description = "print only the token") boolean quiet;
        @Mixin Output output;

        @Override
        protected void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("principal", principal);
            var arr = body.putArray("roles");
            roles.forEach(arr::add);
            if (label != null) body.put("label", label);
            JsonNode res = api().post("/api/tokens", body);
            if (quiet) {
                out().println(res.path("token").asText());
            } else {
                output.object(out(), res);
            }
        }
    }

    @Command(name = "list", description = "Tokens, newest first (never the tokens themselves: their ids).")
    static class List extends ApiCommand {
        @Option(names = "--principal", description = "only this principal's tokens") String principal;
        @Mixin Output output;

        @Override
        protected void run() {
            output.list(out(), api().get("/api/tokens" + ApiClient.query(principal == null ? Map.of() : Map.of("principal", principal))),
                    "id", "principal", "roles", "label", "createdBy", "createdAt", "active");
        }
    }

    @Command(name = "revoke", description = "Revoke a token by its id (as tokens list shows it).")
    static class Revoke extends ApiCommand {
        @Parameters(paramLabel = "ID") String id;
        @Mixin Output output;

        @Override
        protected void run() {
            output.object(out(), api().delete("/api/tokens/" + segment(id)), "id", "principal", "revokedAt", "active");
        }
    }
}
