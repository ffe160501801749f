package dev.anvil.cli;

import static dev.anvil.cli.ApiClient.segment;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "endpoints", description = "Serving endpoints: which model versions serve, with their weights.",
        subcommands = {EndpointsCommand.List.class, EndpointsCommand.Get.class})
public class EndpointsCommand extends GroupCommand {

    @Command(name = "list", description = "Every endpoint with its stable and canary versions.")
    static class List extends ApiCommand {
        @Mixin Output output;

        @Override
        protected void run() {
            output.list(out(), api().get("/api/endpoints"), "name", "model", "stable.version", "stable.artifact",
                    "canary.version", "canary.weight", "public", "updatedAt");
        }
    }

    @Command(name = "get", description = "One endpoint.")
    static class Get extends ApiCommand {
        @Parameters(paramLabel = "NAME") String name;
        @Mixin Output output;

        @Override
        protected void run() {
            output.object(out(), api().get("/api/endpoints/" + segment(name)));
        }
    }
}
