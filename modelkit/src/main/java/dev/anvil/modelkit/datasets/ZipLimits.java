package dev.anvil.modelkit.datasets;

/**
 * Bounds on an uploaded zip archive, so that a small upload cannot expand into more files or bytes than
 * an importer is prepared to hold (a zip bomb).
 *
 * @param maxEntries    most entries (files and folders) the archive may list
 * @param maxTotalBytes most bytes all entries may inflate to together, counted as they are inflated (an
 *                      entry's declared size is the archive's claim, not a bound)
 */
public record ZipLimits(int maxEntries, long maxTotalBytes) {
    /** 100,000 entries and 2 GiB inflated. */
    public static final ZipLimits DEFAULT = new ZipLimits(100_000, 2L << 30);

    public ZipLimits {
        if (maxEntries < 1 || maxTotalBytes < 1) {
            throw new IllegalArgumentException("zip limits must be positive, got " + maxEntries + " entries and "
                    + maxTotalBytes + " bytes");
        }
    }
}
