package dev.anvil.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --output table|json|yaml}: a mixin on every read command, and the renderers behind it. */
public class Output {
    public enum Format { table, json, yaml }

    static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

    @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "table",
            description = "table (default), json or yaml")
    Format format = Format.table;

    public Format format() {
        return format;
    }

    /** Prints a list as a table of the given columns (dotted paths into each row), or the whole of it as JSON/YAML. */
    public void list(PrintWriter out, JsonNode rows, String... columns) {
        if (format != Format.table) {
            structured(out, rows);
            return;
        }
        out.print(table(rows, columns));
        out.flush();
    }

    /** Prints one object as {@code key: value} lines (the given fields, or all), or whole as JSON/YAML. */
    public void object(PrintWriter out, JsonNode node, String... fields) {
        if (format != Format.table) {
            structured(out, node);
            return;
        }
        out.print(keyValues(node, fields));
        out.flush();
    }

    public void structured(PrintWriter out, JsonNode node) {
        try {
            if (format == Format.yaml) {
                out.print(YAML.writeValueAsString(node));
            } else {
                out.println(PRETTY.writeValueAsString(node));
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        out.flush();
    }

    static String table(JsonNode rows, String... columns) {
        List<String[]> lines = new ArrayList<>();
        String[] header = new String[columns.length];
        for (int i = 0; i < columns.length; i++) {
            header[i] = header(columns[i]);
        }
        lines.add(header);
        for (JsonNode row : rows) {
            String[] line = new String[columns.length];
            for (int i = 0; i < columns.length; i++) {
                line[i] = cell(at(row, columns[i]));
            }
            lines.add(line);
        }
        int[] widths = new int[columns.length];
        for (String[] line : lines) {
            for (int i = 0; i < line.length; i++) {
                widths[i] = Math.max(widths[i], line[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] line : lines) {
            StringBuilder l = new StringBuilder();
            for (int i = 0; i < line.length; i++) {
                l.append(i == line.length - 1 ? line[i] : pad(line[i], widths[i] + 2));
            }
            sb.append(l.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }

    /**
     * A column's header: its path in upper snake case, a dotted path whole ({@code canary.version} reads
     * CANARY_VERSION), so two versions of different things never share a header.
     */
    static String header(String column) {
        return snakeUpper(column).replace('.', '_');
    }

    static String keyValues(JsonNode node, String... fields) {
        List<String> names = new ArrayList<>(List.of(fields));
        if (names.isEmpty()) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                names.add(it.next());
            }
        }
        int width = names.stream().mapToInt(String::length).max().orElse(0) + 1;
        StringBuilder sb = new StringBuilder();
        for (String name : names) {
            sb.append(pad(name + ":", width + 1)).append(cell(at(node, name))).append('\n');
        }
        return sb.toString();
    }

    static JsonNode at(JsonNode node, String dotted) {
        JsonNode cur = node;
        for (String part : dotted.split("\\.")) {
            cur = cur.path(part);
        }
        return cur;
    }

    /** Text for a table cell: scalars as they are, containers as compact JSON, nothing as "-". */
    static String cell(JsonNode v) {
        if (v == null || v.isMissingNode() || v.isNull()) return "-";
        if (v.isValueNode()) return v.asText().replace('\n', ' ');
        return v.toString();
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s + " " : s + " ".repeat(width - s.length());
    }

    private static String snakeUpper(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase();
    }
}
