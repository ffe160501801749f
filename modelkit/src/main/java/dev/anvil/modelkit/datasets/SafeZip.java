package dev.anvil.modelkit.datasets;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * An uploaded zip archive opened with its names and sizes distrusted: every entry name is a relative
 * path without {@code ..}, absolute or drive prefixes or backslashes (so nothing can name a place outside
 * the archive), the entry count is bounded, and inflated bytes are counted as they are read and refused
 * past {@link ZipLimits#maxTotalBytes()} whatever the entries declare. Errors are
 * {@link DatasetFormatException}s naming the entry.
 */
public final class SafeZip implements AutoCloseable {
    private static final Pattern DRIVE = Pattern.compile("^[A-Za-z]:.*");

    private final ZipFile zip;
    private final String archive;
    private final ZipLimits limits;
    private final List<ZipEntry> files;
    private final List<String> folders;
    private long inflated;

    private SafeZip(ZipFile zip, String archive, ZipLimits limits, List<ZipEntry> files, List<String> folders) {
        this.zip = zip;
        this.archive = archive;
        this.limits = limits;
        this.files = files;
        this.folders = folders;
    }

    /** @param archive how error messages call the archive, e.g. "the uploaded zip" */
    public static SafeZip open(Path file, String archive, ZipLimits limits) throws IOException {
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new DatasetFormatException(archive + " is not a zip archive (" + e.getMessage() + ")");
        }
        try {
            if (zip.size() > limits.maxEntries()) {
                throw new DatasetFormatException(archive + " lists " + zip.size() + " entries; at most "
                        + limits.maxEntries() + " are accepted. Split it into smaller datasets.");
            }
            List<ZipEntry> files = new ArrayList<>();
            List<String> folders = new ArrayList<>();
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                checkName(archive, entry.getName());
                if (entry.isDirectory()) {
                    folders.add(entry.getName());
                } else {
                    files.add(entry);
                }
            }
            return new SafeZip(zip, archive, limits, Collections.unmodifiableList(files),
                    Collections.unmodifiableList(folders));
        } catch (RuntimeException e) {
            zip.close();
            throw e;
        }
    }

    static void checkName(String archive, String name) {
        String why = null;
        if (name.isEmpty() || name.indexOf('\0') >= 0) {
            why = "is empty or holds a NUL character";
        } else if (name.startsWith("/") || DRIVE.matcher(name).matches()) {
            why = "is an absolute path";
        } else if (name.indexOf('\\') >= 0) {
            why = "holds a backslash";
        } else {
            for (String part : name.split("/")) {
                if (part.equals("..")) {
                    why = "climbs out of the archive with '..'";
                    break;
                }
            }
        }
        if (why != null) {
            throw new DatasetFormatException("entry '" + name + "' of " + archive + " " + why
                    + "; entries must be relative paths inside the archive (e.g. cat/001.png)");
        }
    }

    /** The file entries (folders left out), in the archive's order. */
    public List<ZipEntry> files() {
        return files;
    }

    /** The names of the folder entries. */
    public List<String> folders() {
        return folders;
    }

    /**
     * The entry's inflated bytes, counted against the archive's limit as they are read: passing it throws a
     * {@link DatasetFormatException} naming the entry.
     */
    public InputStream open(ZipEntry entry) throws IOException {
        InputStream in = zip.getInputStream(entry);
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    count(entry, 1);
                }
                return b;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int n = super.read(buffer, offset, length);
                if (n > 0) {
                    count(entry, n);
                }
                return n;
            }

            @Override
            public long skip(long n) throws IOException {
                long skipped = super.skip(n);
                count(entry, skipped);
                return skipped;
            }
        };
    }

    /** The whole entry in memory (bounded by the archive's limit). */
    public byte[] readAll(ZipEntry entry) throws IOException {
        try (InputStream in = open(entry)) {
            return in.readAllBytes();
        } catch (ZipException e) {
            throw new DatasetFormatException("entry '" + entry.getName() + "' of " + archive + " is corrupt: "
                    + e.getMessage());
        }
    }

    private void count(ZipEntry entry, long n) {
        inflated += n;
        if (inflated > limits.maxTotalBytes()) {
            throw new DatasetFormatException("entry '" + entry.getName() + "' of " + archive + " inflates past "
                    + limits.maxTotalBytes() + " bytes, the most an uploaded archive may hold uncompressed (a zip"
                    + " bomb?); send a smaller archive or split the dataset");
        }
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }
}
