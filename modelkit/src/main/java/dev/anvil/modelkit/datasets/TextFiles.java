package dev.anvil.modelkit.datasets;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/** Reads the UTF-8 text files the importers take, gunzipping those that end in {@code .gz} or start with gzip's magic. */
final class TextFiles {
    private static final int GZIP_MAGIC_1 = 0x1f;
    private static final int GZIP_MAGIC_2 = 0x8b;

    private TextFiles() {}

    /** One physical line of a file with its 1-based line number. */
    record Line(int number, String text) {}

    /**
     * Every line of {@code file} that is not blank, with its line number. Corrupt or truncated gzip data is a
     * {@link DatasetFormatException} naming the file and the line it stopped after.
     */
    static List<Line> readLines(Path file) throws IOException {
        List<Line> lines = new ArrayList<>();
        int number = 0;
        try (BufferedReader reader = open(file)) {
            String text;
            while ((text = reader.readLine()) != null) {
                number++;
                if (!text.isBlank()) {
                    lines.add(new Line(number, text));
                }
            }
        } catch (ZipException | EOFException e) {
            throw corruptGzip(file, number, e);
        }
        return lines;
    }

    /** Whether {@code e}, thrown while reading a file {@link #open} opened, says its gzip data is corrupt or cut short. */
    static boolean isCorruptGzip(IOException e) {
        return e instanceof ZipException || e instanceof EOFException;
    }

    static DatasetFormatException corruptGzip(Path file, long lastLine, IOException e) {
        return new DatasetFormatException(file.getFileName() + " is not valid gzip data after line " + lastLine
                + " (" + e.getMessage() + "); the file is corrupt or truncated");
    }

    static BufferedReader open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            if (isGzip(file, in)) {
                in = new GZIPInputStream(in, 1 << 16);
            }
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
    }

    private static boolean isGzip(Path file, InputStream in) throws IOException {
        if (file.getFileName().toString().endsWith(".gz")) {
            return true;
        }
        in.mark(2);
        int first = in.read();
        int second = in.read();
        in.reset();
        return first == GZIP_MAGIC_1 && second == GZIP_MAGIC_2;
    }
}
