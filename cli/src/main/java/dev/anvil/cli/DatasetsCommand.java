package dev.anvil.cli;

import static dev.anvil.cli.ApiClient.segment;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "datasets", description = "Import datasets and list their versions (docs/datasets.md).",
        subcommands = {DatasetsCommand.Import.class, DatasetsCommand.List.class, DatasetsCommand.Get.class})
public class DatasetsCommand extends GroupCommand {

    public enum Format { mnist, csv, text, images, npy }

    @Command(name = "import", description = "Import a file as the next version of a named dataset. mnist, images "
            + "and npy take a zip; give several files or a folder instead and they are zipped on the way.")
    static class Import extends ApiCommand {
        @Parameters(index = "0", paramLabel = "FORMAT", description = "mnist, csv, text, images or npy") Format format;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "FILE") java.util.List<Path> files;
        @Option(names = "--name", required = true, description = "the dataset's name") String name;
        @Option(names = "--input", description = "the model input the samples feed") String input;
        @Option(names = "--declare", paramLabel = "NAME:DTYPE[DIMS]", description = "declare an input, e.g. "
                + "input_image:float32[1,28,28] (repeatable)") java.util.List<String> declare = new ArrayList<>();
        @Option(names = "--model", paramLabel = "SHA256", description = "take the inputs' names and shapes from this model") String model;
        @Option(names = "--label", description = "the label column (csv)") String label;
        @Option(names = "--tokenizer", description = "the tokenizer (text)") String tokenizer;
        @Option(names = "--width", description = "image width (images)") Integer width;
        @Option(names = "--height", description = "image height (images)") Integer height;
        @Option(names = "--set", paramLabel = "KEY=VALUE", description = "any other importer option as the REST API "
                + "names it, e.g. --set maxLength=128 (repeatable)") Map<String, String> extra = new LinkedHashMap<>();
        @Mixin Output output;

        @Override
        protected void run() throws IOException {
            for (Path f : files) {
                if (!Files.exists(f)) throw CliException.usage("no file at " + f);
            }
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("name", name);
            q.put("format", format.name());
            q.put("input", input);
            q.put("model", model);
            q.put("label", label);
            q.put("tokenizer", tokenizer);
            q.put("width", width);
            q.put("height", height);
            q.putAll(extra);
            StringBuilder query = new StringBuilder(ApiClient.query(q));
            for (String d : declare) {
                query.append(ApiClient.query(Map.of("declare", d)).replaceFirst("^\\?", "&"));
            }
            boolean zip = files.size() > 1 || Files.isDirectory(files.get(0));
            if (zip && (format == Format.csv || format == Format.text)) {
                throw CliException.usage(format + " takes one file, got " + files);
            }
            Path body = zip ? zipped(files) : files.get(0);
            try (InputStream in = Files.newInputStream(body)) {
                JsonNode res = api().send("POST", "/api/datasets" + query, "application/octet-stream",
                        HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> in), Files.size(body)));
                output.object(out(), res, "name", "version", "reference", "format", "sampleCount", "labels",
                        "artifact.sha256");
            } finally {
                if (zip) Files.deleteIfExists(body);
            }
        }

        private static Path zipped(java.util.List<Path> inputs) throws IOException {
            Path zip = Files.createTempFile("anvil-dataset-", ".zip");
            try (OutputStream os = Files.newOutputStream(zip); ZipOutputStream zos = new ZipOutputStream(os)) {
                for (Path in : inputs) {
                    java.util.List<Path> members;
                    try (Stream<Path> walk = Files.isDirectory(in) ? Files.walk(in) : Stream.of(in)) {
                        members = walk.filter(Files::isRegularFile).sorted().toList();
                    }
                    for (Path m : members) {
                        Path base = Files.isDirectory(in) ? in : m.getParent() == null ? Path.of("") : m.getParent();
                        zos.putNextEntry(new ZipEntry(base.relativize(m).toString().replace('\\', '/')));
                        Files.copy(m, zos);
                        zos.closeEntry();
                    }
                }
            }
            return zip;
        }
    }

    @Command(name = "list", description = "Every dataset's newest version.")
    static class List extends ApiCommand {
        @Mixin Output output;

        @Override
        protected void run() {
            output.list(out(), api().get("/api/datasets"), "name", "version", "format", "sampleCount", "labels",
                    "createdBy", "createdAt");
        }
    }

    @Command(name = "get", description = "A dataset's versions, or one version with --version.")
    static class Get extends ApiCommand {
        @Parameters(paramLabel = "NAME") String name;
        @Option(names = "--version", paramLabel = "N", description = "one version") Integer version;
        @Mixin Output output;

        @Override
        protected void run() {
            String path = "/api/datasets/" + segment(name) + (version == null ? "" : "/versions/" + version);
            output.object(out(), api().get(path));
        }
    }
}
