package dev.anvil.api.datasets;

import dev.anvil.api.problem.ProblemException;
import dev.anvil.modelkit.datasets.CsvDatasetImporter;
import dev.anvil.modelkit.datasets.ImageDatasetImporter;
import dev.anvil.modelkit.datasets.TextDatasetImporter;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.QueryParam;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;

/**
 * The query parameters of {@code POST /api/datasets}: what to call the dataset, which importer reads the
 * body, and that importer's options. Each parser answers 400 naming the parameter and the fix.
 */
public class ImportRequest {
    static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9_-]{0,62}$");

    @QueryParam("name")
    @Parameter(description = "the dataset's name (lower case letters, digits, '-' and '_'); each upload adds its next"
            + " version", required = true, example = "mnist")
    String name;

    @QueryParam("format")
    @Parameter(description = "the importer that reads the body: mnist (a zip of the images and labels IDX files, gzipped"
            + " or not), csv, text (a TSV; needs tokenizer), npy (a zip of .npy files: Anvil's dataset format), images"
            + " (a zip of PNG/JPEG files; needs width and height)", required = true, example = "csv")
    String format;

    @QueryParam("input")
    @Parameter(description = "mnist, csv, images: the model input the samples feed (default input_image for mnist,"
            + " else input)")
    String input;

    @QueryParam("declare")
    @Parameter(description = "repeatable: an input's dtype and per-sample shape the dataset must have, "
            + "name:dtype[d1,d2,...] (a dimension may be ?), e.g. input_image:float32[1,28,28]")
    List<String> declare;

    @QueryParam("model")
    @Parameter(description = "sha256 of an uploaded ONNX model whose inputs the dataset must feed (names, dtypes, "
            + "and fixed dimensions after the batch axis)")
    String model;

    @QueryParam("label")
    @Parameter(description = "csv: the label column, by header name or 1-based index (default: the last column)")
    String label;

    @QueryParam("unlabelled")
    @DefaultValue("false")
    @Parameter(description = "csv: no label column; every column not ignored is a feature")
    boolean unlabelled;

    @QueryParam("ignore")
    @Parameter(description = "csv: comma-separated columns that are neither feature nor label, by name or 1-based index")
    String ignore;

    @QueryParam("header")
    @DefaultValue("auto")
    @Parameter(description = "csv: auto (detect a line of names or a scikit-learn header), true or false")
    String header;

    @QueryParam("tokenizer")
    @Parameter(description = "text: sha256 of an uploaded Hugging Face tokenizer.json (POST /api/artifacts)")
    String tokenizer;

    @QueryParam("maxLength")
    @DefaultValue("128")
    @Parameter(description = "text: tokens per sample (truncated or padded)")
    int maxLength;

    @QueryParam("inputs")
    @Parameter(description = "text: token ids, attention mask[, token type ids] input names "
            + "(default input_ids,attention_mask,token_type_ids)")
    String inputs;

    @QueryParam("labelColumn")
    @DefaultValue("label")
    @Parameter(description = "text: the TSV column holding the label")
    String labelColumn;

    @QueryParam("textColumns")
    @DefaultValue("subject,body_first1000")
    @Parameter(description = "text: comma-separated TSV columns joined by a newline into the text")
    String textColumns;

    @QueryParam("labelNames")
    @DefaultValue("ham,spam")
    @Parameter(description = "text: comma-separated label values in id order (the first is 0)")
    String labelNames;

    @QueryParam("width")
    @Parameter(description = "images: width every image is resized to")
    Integer width;

    @QueryParam("height")
    @Parameter(description = "images: height every image is resized to")
    Integer height;

    @QueryParam("color")
    @DefaultValue("rgb")
    @Parameter(description = "images: rgb (3 channels) or grayscale (1)")
    String color;

    @QueryParam("layout")
    @DefaultValue("nchw")
    @Parameter(description = "images: nchw ([n, C, H, W]) or nhwc ([n, H, W, C])")
    String layout;

    @QueryParam("scale")
    @DefaultValue("0.00392156862745098")
    @Parameter(description = "images: multiplies each 0..255 pixel first (default 1/255)")
    String scale;

    @QueryParam("mean")
    @DefaultValue("0")
    @Parameter(description = "images: subtracted after scaling; one value or one per channel, comma-separated")
    String mean;

    @QueryParam("std")
    @DefaultValue("1")
    @Parameter(description = "images: divides after the mean; one value or one per channel, comma-separated")
    String std;

    /** The supported formats, as the API names them. */
    enum Format {
        MNIST, CSV, TEXT, NPY, IMAGES;

        String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    String name() {
        if (name == null || name.isBlank()) {
            throw ProblemException.badRequest("name", "name is required: the dataset's name, e.g. ?name=mnist");
        }
        if (!NAME.matcher(name).matches()) {
            throw ProblemException.badRequest("name", "name '" + name + "' must be 1 to 63 lower case letters, digits,"
                    + " '-' or '_', starting with a letter or digit");
        }
        return name;
    }

    Format format() {
        String all = String.join(", ", Arrays.stream(Format.values()).map(Format::id).toList());
        if (format == null || format.isBlank()) {
            throw ProblemException.badRequest("format", "format is required: one of " + all);
        }
        try {
            return Format.valueOf(format.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest("format", "format '" + format + "' is not one of " + all);
        }
    }

    String input(String fallback) {
        return input == null || input.isBlank() ? fallback : input.strip();
    }

    CsvDatasetImporter.ColumnRoles columnRoles() {
        CsvDatasetImporter.HeaderMode mode = switch (header.strip().toLowerCase(Locale.ROOT)) {
            case "auto" -> CsvDatasetImporter.HeaderMode.AUTO;
            case "true" -> CsvDatasetImporter.HeaderMode.PRESENT;
            case "false" -> CsvDatasetImporter.HeaderMode.ABSENT;
            default -> throw ProblemException.badRequest("header", "header '" + header + "' must be auto, true or false");
        };
        Optional<String> labelColumn = label == null || label.isBlank() ? Optional.empty() : Optional.of(label.strip());
        if (unlabelled && labelColumn.isPresent()) {
            throw ProblemException.badRequest("label", "label '" + label + "' and unlabelled=true contradict each other;"
                    + " give one of them");
        }
        return new CsvDatasetImporter.ColumnRoles(mode, labelColumn, unlabelled, list(ignore));
    }

    TextDatasetImporter.InputNames tokenInputs() {
        if (inputs == null || inputs.isBlank()) {
            return TextDatasetImporter.InputNames.BERT;
        }
        return argument("inputs", () -> TextDatasetImporter.InputNames.parse(inputs));
    }

    TextDatasetImporter.TsvColumns tsvColumns() {
        return argument("textColumns", () -> new TextDatasetImporter.TsvColumns(labelColumn.strip(), list(textColumns),
                list(labelNames)));
    }

    int maxLength() {
        if (maxLength < 2 || maxLength > 8192) {
            throw ProblemException.badRequest("maxLength", "maxLength " + maxLength + " must be 2..8192 tokens (room"
                    + " for the special tokens)");
        }
        return maxLength;
    }

    ImageDatasetImporter.Options imageOptions() {
        if (width == null || height == null) {
            throw ProblemException.badRequest(width == null ? "width" : "height", "format=images needs width and height,"
                    + " the size every image is resized to (e.g. width=28&height=28)");
        }
        ImageDatasetImporter.Color c = switch (color.strip().toLowerCase(Locale.ROOT)) {
            case "rgb" -> ImageDatasetImporter.Color.RGB;
            case "grayscale", "gray", "grey" -> ImageDatasetImporter.Color.GRAYSCALE;
            default -> throw ProblemException.badRequest("color", "color '" + color + "' must be rgb or grayscale");
        };
        ImageDatasetImporter.Layout l = switch (layout.strip().toLowerCase(Locale.ROOT)) {
            case "nchw" -> ImageDatasetImporter.Layout.NCHW;
            case "nhwc" -> ImageDatasetImporter.Layout.NHWC;
            default -> throw ProblemException.badRequest("layout", "layout '" + layout + "' must be nchw or nhwc");
        };
        float s = floats("scale", scale)[0];
        float[] m = floats("mean", mean);
        float[] d = floats("std", std);
        try {
            return new ImageDatasetImporter.Options(input("input"), width, height, c, l, s, m, d);
        } catch (IllegalArgumentException e) {
            String first = e.getMessage().split(" ")[0];
            String field = List.of("mean", "std", "scale").contains(first) ? first
                    : first.equals("image") ? "width" : "input";
            throw ProblemException.badRequest(field, e.getMessage());
        }
    }

    private static float[] floats(String field, String text) {
        List<String> parts = list(text);
        float[] values = new float[parts.size()];
        try {
            for (int i = 0; i < values.length; i++) {
                values[i] = Float.parseFloat(parts.get(i));
            }
        } catch (NumberFormatException e) {
            values = new float[0];
        }
        if (values.length == 0) {
            throw ProblemException.badRequest(field, field + " '" + text + "' must be a number or comma-separated numbers");
        }
        return values;
    }

    static List<String> list(String commaSeparated) {
        if (commaSeparated == null || commaSeparated.isBlank()) {
            return List.of();
        }
        return Arrays.stream(commaSeparated.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    /** Runs a constructor whose IllegalArgumentException is the caller's mistake in {@code field}. */
    private static <T> T argument(String field, java.util.function.Supplier<T> make) {
        try {
            return make.get();
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest(field, e.getMessage());
        }
    }
}
