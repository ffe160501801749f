package dev.anvil.cli;

import static dev.anvil.cli.ApiClient.segment;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "artifacts", description = "Upload, download and trace content-addressed artifacts.",
        subcommands = {ArtifactsCommand.Push.class, ArtifactsCommand.Pull.class, ArtifactsCommand.Get.class,
                ArtifactsCommand.Lineage.class})
public class ArtifactsCommand extends GroupCommand {

    @Command(name = "push", description = "Upload a file (streamed; its sha256 is computed on the way and checked "
            + "against the server's). Prints the sha256; the same bytes again return the same artifact.")
    static class Push extends ApiCommand {
        @Parameters(paramLabel = "FILE") Path file;
        @Option(names = "--media-type", paramLabel = "TYPE", description = "e.g. application/onnx") String mediaType;
        @Option(names = {"-q", "--quiet"}, description = "print only the sha256") boolean quiet;
        @Mixin Output output;

        @Override
        protected void run() throws IOException {
            if (!Files.isRegularFile(file)) {
                throw CliException.usage("no file at " + file);
            }
            long size = Files.size(file);
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("mediaType", mediaType);
            JsonNode res;
            Progress progress;
            try (InputStream in = Files.newInputStream(file)) {
                progress = Progress.of(in, ctx().tty() && !quiet ? err() : null, size, file.getFileName().toString());
                Progress stream = progress;
                // a known length: no chunked encoding, and the server can refuse an oversize body up front
                HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.fromPublisher(
                        HttpRequest.BodyPublishers.ofInputStream(() -> stream), size);
                res = api().send("POST", "/api/artifacts" + ApiClient.query(q), "application/octet-stream", body);
                progress.finish();
            }
            String local = progress.sha256();
            String remote = res.path("artifact").path("sha256").asText();
            if (!local.equals(remote)) {
                throw new CliException(ExitCodes.REFUSED, "the server stored sha256 " + remote + " but " + file
                        + " hashed to " + local + " on the way: the bytes changed in transit or the file changed while"
                        + " uploading; push it again");
            }
            if (quiet) {
                out().println(remote);
            } else if (output.format() != Output.Format.table) {
                output.structured(out(), res);
            } else {
                out().println(remote + "  " + Progress.human(size) + "  "
                        + (res.path("created").asBoolean() ? "created" : "already stored"));
            }
        }
    }

    @Command(name = "pull", description = "Download an artifact, checking its sha256 before the file appears.")
    static class Pull extends ApiCommand {
        @Parameters(paramLabel = "SHA256") String sha;
        @Option(names = {"-o", "--output-file"}, required = true, paramLabel = "FILE", description = "where to write it") Path target;

        @Override
        protected void run() throws IOException {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".anvil-pull-", ".part");
            try {
                long expected = api().get("/api/artifacts/" + segment(sha)).path("size").asLong(-1);
                Progress progress;
                try (InputStream body = api().download("/api/artifacts/" + segment(sha) + "/content");
                     OutputStream out = Files.newOutputStream(tmp)) {
                    progress = Progress.of(body, ctx().tty() ? err() : null, expected, target.getFileName().toString());
                    progress.transferTo(out);
                }
                progress.finish();
                String got = progress.sha256();
                if (!got.equalsIgnoreCase(sha)) {
                    throw new CliException(ExitCodes.REFUSED, "downloaded bytes hash to " + got + ", not " + sha
                            + " (cut short or corrupted); nothing written to " + target + "; pull it again");
                }
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                out().println(target + "  " + Progress.human(progress.bytes()) + "  sha256 " + got);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }

    @Command(name = "get", description = "An artifact's metadata.")
    static class Get extends ApiCommand {
        @Parameters(paramLabel = "SHA256") String sha;
        @Mixin Output output;

        @Override
        protected void run() {
            output.object(out(), api().get("/api/artifacts/" + segment(sha)));
        }
    }

    @Command(name = "lineage", description = "An artifact's ancestors and descendants (W3C PROV used/generated).")
    static class Lineage extends ApiCommand {
        @Parameters(paramLabel = "SHA256") String sha;
        @Mixin Output output;

        @Override
        protected void run() {
            JsonNode res = api().get("/api/artifacts/" + segment(sha) + "/lineage");
            if (output.format() != Output.Format.table) {
                output.structured(out(), res);
                return;
            }
            for (String side : new String[] {"ancestors", "descendants"}) {
                JsonNode graph = res.path(side);
                out().println(side + (graph.path("truncated").asBoolean() ? " (truncated)" : "") + ":");
                if (graph.path("nodes").isEmpty()) {
                    out().println("  (none)");
                    continue;
                }
                Output.table(graph.path("nodes"), "depth", "kind", "id", "run", "task", "operator", "status")
                        .lines().forEach(l -> out().println("  " + l));
                for (JsonNode edge : graph.path("edges")) {
                    String role = edge.path("role").asText("");
                    out().println("  " + edge.path("from").asText() + " --" + edge.path("relation").asText()
                            + (role.isEmpty() ? "" : "(" + role + ")") + "--> " + edge.path("to").asText());
                }
            }
        }
    }
}
