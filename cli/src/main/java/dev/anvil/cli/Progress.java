package dev.anvil.cli;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A stream that hashes (sha256) what passes through it and, on a terminal, draws a progress bar on stderr: an
 * upload's checksum is known the moment its last byte is sent, without reading the file twice.
 */
public class Progress extends FilterInputStream {
    private final MessageDigest digest;
    private final PrintWriter bar;
    private final long total;
    private final String label;
    private long done;
    private long lastDrawn = -1;

    private Progress(InputStream in, MessageDigest digest, PrintWriter bar, long total, String label) {
        super(new DigestInputStream(in, digest));
        this.digest = digest;
        this.bar = bar;
        this.total = total;
        this.label = label;
    }

    /** @param bar where to draw the bar, or null for none (not a terminal) */
    public static Progress of(InputStream in, PrintWriter bar, long total, String label) {
        try {
            return new Progress(in, MessageDigest.getInstance("SHA-256"), bar, total, label);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) advance(1);
        return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        if (n > 0) advance(n);
        return n;
    }

    public long bytes() {
        return done;
    }

    public String sha256() {
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Ends the bar's line. */
    public void finish() {
        if (bar != null) {
            draw();
            bar.println();
            bar.flush();
        }
    }

    private void advance(long n) {
        done += n;
        if (bar == null) return;
        long percent = total > 0 ? done * 100 / total : 0;
        if (percent != lastDrawn) {
            lastDrawn = percent;
            draw();
        }
    }

    private void draw() {
        int width = 30;
        int filled = total > 0 ? (int) Math.min(width, done * width / total) : 0;
        bar.print("\r" + label + " [" + "#".repeat(filled) + " ".repeat(width - filled) + "] "
                + (total > 0 ? done * 100 / total : 100) + "% " + human(done) + " / " + human(total));
        bar.flush();
    }

    static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        double v = bytes;
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
