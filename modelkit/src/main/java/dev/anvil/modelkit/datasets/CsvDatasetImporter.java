package dev.anvil.modelkit.datasets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.commons.csv.CSVException;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Turns a numeric CSV file (gzipped or not: a {@code .gz} suffix or gzip's magic bytes) into a dataset: every
 * column but the last is a feature, the last is an integer class label. The result is one float32 input
 * {@code [n, features]} and int64 {@code labels}.
 *
 * <p>The first line may be
 * <ul>
 *   <li>a scikit-learn header, as in {@code sklearn/datasets/data/iris.csv}: {@code n_samples,n_features} then
 *       optional class names ({@code 150,4,setosa,versicolor,virginica}). It is recognised when it holds a
 *       non-numeric cell after two integers, or when its first two cells are exactly the number of rows after it
 *       and the number of columns minus one. The counts are checked against the file and labels must index the
 *       class names;</li>
 *   <li>a row of column names, every cell non-numeric ({@code sepal_length,...,target}), which is skipped;</li>
 *   <li>data, as in {@code digits.csv.gz}.</li>
 * </ul>
 * Cells are plain decimal numbers ({@code 5.1}, {@code -3}, {@code 1e-4}), quoted or not, as RFC 4180 (Apache Commons
 * CSV) reads them; blank lines are skipped. Every error names the file, the line and, for a bad cell, the 1-based
 * column.
 */
public final class CsvDatasetImporter {
    public static final String DEFAULT_INPUT = "input";

    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");
    /** RFC 4180 with cells trimmed; blank lines are kept as records so that line numbers can be counted. */
    private static final CSVFormat CSV = CSVFormat.RFC4180.builder().setTrim(true).setIgnoreEmptyLines(false).get();

    /** Whether the first line names the columns: detected (see the class comment), always, or never. */
    public enum HeaderMode { AUTO, PRESENT, ABSENT }

    /**
     * Which columns are what. Columns are named by the header line's names or by 1-based index.
     *
     * @param header     whether line 1 is a header
     * @param label      the label column; empty for the last column
     * @param unlabelled no label column at all: every column not ignored is a feature, and there is no labels.npy
     * @param ignore     columns that are neither feature nor label (ids, free text)
     */
    public record ColumnRoles(HeaderMode header, Optional<String> label, boolean unlabelled, List<String> ignore) {
        /** Line 1 detected, the last column the label, every other column a feature. */
        public static final ColumnRoles DEFAULT = new ColumnRoles(HeaderMode.AUTO, Optional.empty(), false, List.of());

        public ColumnRoles {
            ignore = List.copyOf(ignore);
            if (unlabelled && label.isPresent()) {
                throw new IllegalArgumentException("a CSV cannot both have the label column '" + label.get()
                        + "' and be unlabelled");
            }
        }
    }

    private final String inputName;
    private final ColumnRoles roles;

    /** @param inputName the model input the features feed, e.g. {@code input} or {@code float_input} */
    public CsvDatasetImporter(String inputName) {
        this(inputName, ColumnRoles.DEFAULT);
    }

    public CsvDatasetImporter(String inputName, ColumnRoles roles) {
        Dataset.checkInputName(inputName);
        this.inputName = inputName;
        this.roles = roles;
    }

    public CsvDatasetImporter() {
        this(DEFAULT_INPUT);
    }

    public Dataset read(Path csv) throws IOException {
        String file = csv.getFileName().toString();
        List<Row> lines = rows(csv);
        if (lines.isEmpty()) {
            throw new DatasetFormatException(file + " holds no rows; expected comma-separated features and a label per line");
        }
        String[] first = lines.get(0).cells();
        Header header = switch (roles.header()) {
            case AUTO -> header(file, first, lines);
            case ABSENT -> new Header(HeaderKind.NONE, 0, List.of());
            case PRESENT -> {
                Header detected = header(file, first, lines);
                yield detected.kind() == HeaderKind.SKLEARN ? detected
                        : new Header(HeaderKind.COLUMN_NAMES, first.length, List.of());
            }
        };
        List<Row> rows = header.kind == HeaderKind.NONE ? lines : lines.subList(1, lines.size());
        if (rows.isEmpty()) {
            throw new DatasetFormatException(file + " has a header line but no data rows");
        }
        int columns = header.columns > 0 ? header.columns : first.length;
        if (columns < (roles.unlabelled() ? 1 : 2)) {
            throw new DatasetFormatException(file + " line " + rows.get(0).line() + ": a row needs at least one feature"
                    + " and a label, found " + columns + " column");
        }
        int labelColumn = roles.unlabelled() ? -1
                : roles.label().map(name -> column(file, "label", name, first, columns, header)).orElse(columns - 1);
        Set<Integer> ignored = new TreeSet<>();
        for (String name : roles.ignore()) {
            ignored.add(column(file, "ignored", name, first, columns, header));
        }
        int[] featureColumns = IntStream.range(0, columns)
                .filter(c -> c != labelColumn && !ignored.contains(c)).toArray();
        if (featureColumns.length == 0) {
            throw new DatasetFormatException(file + " has no feature column left: of its " + columns + " columns, "
                    + (labelColumn >= 0 ? "column " + (labelColumn + 1) + " is the label and " : "") + ignored.size()
                    + " are ignored; ignore fewer columns");
        }
        int features = featureColumns.length;
        String expected = labelColumn == columns - 1 && ignored.isEmpty()
                ? features + " features and a label" : "each with a value";
        float[] values = new float[Math.multiplyExact(rows.size(), features)];
        long[] labels = new long[rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            Row row = rows.get(r);
            String[] cells = row.cells();
            if (cells.length != columns) {
                throw new DatasetFormatException(file + " line " + row.line() + ": expected " + columns + " columns ("
                        + expected + header.source() + "), found " + cells.length);
            }
            for (int f = 0; f < features; f++) {
                int c = featureColumns[f];
                values[r * features + f] = feature(file, row, c, cells[c]);
            }
            if (labelColumn >= 0) {
                labels[r] = label(file, row, labelColumn, cells[labelColumn], header);
            }
        }
        NpyArray input = NpyArray.ofFloat32(new long[] {rows.size(), features}, values);
        if (labelColumn < 0) {
            return new Dataset(Map.of(inputName, input), Optional.empty());
        }
        return Dataset.of(Map.of(inputName, input), NpyArray.ofInt64(new long[] {rows.size()}, labels));
    }

    /** The 0-based index of a column named by the header line or by its 1-based index. */
    private static int column(String file, String role, String name, String[] first, int columns, Header header) {
        if (header.kind() == HeaderKind.COLUMN_NAMES) {
            for (int c = 0; c < first.length; c++) {
                if (first[c].equals(name)) {
                    return c;
                }
            }
        }
        if (INTEGER.matcher(name).matches() && name.length() < 10) {
            int index = Integer.parseInt(name);
            if (index >= 1 && index <= columns) {
                return index - 1;
            }
        }
        String choices = header.kind() == HeaderKind.COLUMN_NAMES
                ? "its header names " + Arrays.toString(first) + "; give one of them or a 1-based index 1.." + columns
                : "it has " + columns + " columns and no header line naming them; give a 1-based index 1.." + columns;
        throw new DatasetFormatException(role + " column '" + name + "' does not exist in " + file + ": " + choices);
    }

    /** Writes every sample, in file order, to {@code out}. */
    public void importAll(Path csv, Path out) throws IOException {
        DatasetWriter.write(out, read(csv));
    }

    /**
     * Shuffles with {@code seed}, then writes the first {@code firstCount} samples to {@code first} and the rest to
     * {@code rest}. The same seed always gives the same split.
     */
    public void importSplit(Path csv, long seed, int firstCount, Path first, Path rest) throws IOException {
        List<Dataset> parts = read(csv).shuffled(seed).split(firstCount);
        DatasetWriter.write(first, parts.get(0));
        DatasetWriter.write(rest, parts.get(1));
    }

    private enum HeaderKind { SKLEARN, COLUMN_NAMES, NONE }

    /** @param columns columns every data row must have, 0 when the first data row decides */
    private record Header(HeaderKind kind, int columns, List<String> classNames) {
        String source() {
            return switch (kind) {
                case SKLEARN -> ", as the header on line 1 declares";
                case COLUMN_NAMES -> ", as the column names on line 1";
                case NONE -> ", as the first line";
            };
        }
    }

    private static Header header(String file, String[] first, List<Row> lines) {
        long nonNumeric = Arrays.stream(first).filter(cell -> !DECIMAL.matcher(cell).matches()).count();
        boolean countsFirst = first.length >= 2 && count(first[0]) >= 0 && count(first[1]) >= 0;
        if (countsFirst && nonNumeric > 0) {
            return sklearnHeader(file, first, lines);
        }
        if (countsFirst && lines.size() > 1 && count(first[0]) == lines.size() - 1
                && count(first[1]) == lines.get(1).cells().length - 1) {
            return sklearnHeader(file, first, lines);
        }
        if (nonNumeric == first.length) {
            return new Header(HeaderKind.COLUMN_NAMES, first.length, List.of());
        }
        return new Header(HeaderKind.NONE, 0, List.of());
    }

    private static Header sklearnHeader(String file, String[] first, List<Row> lines) {
        long samples = count(first[0]);
        long features = count(first[1]);
        String prefix = file + " line 1: scikit-learn header '" + String.join(",", first) + "' ";
        if (samples != lines.size() - 1) {
            throw new DatasetFormatException(prefix + "declares " + samples + " samples but the file has "
                    + (lines.size() - 1) + " data rows");
        }
        if (features < 1 || features > Integer.MAX_VALUE - 1) {
            throw new DatasetFormatException(prefix + "declares " + features + " features; a row needs at least one");
        }
        List<String> classNames = List.of(Arrays.copyOfRange(first, 2, first.length));
        return new Header(HeaderKind.SKLEARN, (int) features + 1, classNames);
    }

    /** A cell holding a non-negative integer that fits a long, or -1. */
    private static long count(String cell) {
        if (!INTEGER.matcher(cell).matches() || cell.startsWith("-") || cell.length() > 18) {
            return -1;
        }
        return Long.parseLong(cell);
    }

    private static float feature(String file, Row row, int column, String cell) {
        if (!DECIMAL.matcher(cell).matches()) {
            throw new DatasetFormatException(file + " line " + row.line() + " column " + (column + 1) + ": "
                    + describe(cell) + " is not a number");
        }
        float value = Float.parseFloat(cell);
        if (!Float.isFinite(value)) {
            throw new DatasetFormatException(file + " line " + row.line() + " column " + (column + 1) + ": " + cell
                    + " is outside the float32 range");
        }
        return value;
    }

    private static long label(String file, Row row, int column, String cell, Header header) {
        String where = file + " line " + row.line() + " column " + (column + 1) + " (label): ";
        if (!INTEGER.matcher(cell).matches()) {
            throw new DatasetFormatException(where + describe(cell) + " is not an integer class label");
        }
        long label;
        try {
            label = Long.parseLong(cell);
        } catch (NumberFormatException e) {
            throw new DatasetFormatException(where + cell + " is too large for a class label");
        }
        if (label < 0) {
            throw new DatasetFormatException(where + "class labels are 0 or more, found " + label);
        }
        if (!header.classNames().isEmpty() && label >= header.classNames().size()) {
            throw new DatasetFormatException(where + "label " + label + " is outside the " + header.classNames().size()
                    + " classes the header names " + header.classNames());
        }
        return label;
    }

    private static String describe(String cell) {
        return cell.isEmpty() ? "the cell is empty, which" : "'" + cell + "'";
    }

    /** One record of the file, its cells trimmed, with the 1-based line it starts on. */
    private record Row(long line, String[] cells) {}

    /**
     * Every record that is not blank. Quoted cells ({@code "5.1"}, {@code "length, cm"}) and CRLF line ends are
     * RFC 4180's; a malformed quote is a {@link DatasetFormatException} naming the file and line.
     */
    private static List<Row> rows(Path csv) throws IOException {
        List<Row> rows = new ArrayList<>();
        long line = 1;
        try (CSVParser parser = CSV.parse(TextFiles.open(csv))) {
            Iterator<CSVRecord> records = parser.iterator();
            // empty lines come as one empty cell, so the parser's line count stays the start of the next record
            while (records.hasNext()) {
                String[] cells = records.next().values();
                if (cells.length > 1 || !cells[0].isEmpty()) {
                    rows.add(new Row(line, cells));
                }
                line = parser.getCurrentLineNumber() + 1;
            }
        } catch (UncheckedIOException e) {
            IOException cause = e.getCause();
            if (cause instanceof CSVException) {
                throw new DatasetFormatException(csv.getFileName() + " line " + line + ": " + cause.getMessage()
                        + "; a quoted cell ends with a quote followed by a comma or the end of the line");
            }
            if (TextFiles.isCorruptGzip(cause)) {
                throw TextFiles.corruptGzip(csv, line - 1, cause);
            }
            throw cause;
        }
        return rows;
    }
}
