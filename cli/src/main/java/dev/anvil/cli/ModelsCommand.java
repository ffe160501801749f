package dev.anvil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "models", description = "Model checks run as durable workflows.",
        subcommands = {ModelsCommand.Inspect.class})
public class ModelsCommand extends GroupCommand {

    @Command(name = "inspect", description = "Inspect an uploaded ONNX model in a recorded run: opset, IR version, "
            + "inputs and outputs, parameter count, size, warnings.")
    static class Inspect extends ApiCommand {
        @Parameters(paramLabel = "SHA256") String sha;
        @Mixin Output output;

        @Override
        protected void run() {
            JsonNode res = api().post("/api/models/inspect", Map.of("artifact", sha));
            if (output.format() != Output.Format.table) {
                output.structured(out(), res);
                return;
            }
            out().print(Output.keyValues(res, "run", "status"));
            JsonNode report = res.path("report");
            out().print(Output.keyValues(report, "irVersion", "opsets", "parameterCount", "sizeBytes"));
            out().println("inputs:");
            out().print(indent(Output.table(report.path("inputs"), "name", "elementType", "shape")));
            out().println("outputs:");
            out().print(indent(Output.table(report.path("outputs"), "name", "elementType", "shape")));
            for (JsonNode w : report.path("warnings")) {
                out().println("warning: " + Output.cell(w));
            }
        }

        private static String indent(String text) {
            return text.lines().map(l -> "  " + l + "\n").reduce("", String::concat);
        }
    }
}
