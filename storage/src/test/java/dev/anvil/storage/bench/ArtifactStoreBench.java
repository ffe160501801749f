package dev.anvil.storage.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import dev.anvil.devstack.LocalStack;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.storage.GeneratedInputStream;
import dev.anvil.storage.ObjectStore;
import dev.anvil.storage.PutResult;
import io.minio.MinioClient;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * Streams a generated artifact up through {@link ObjectStore#put} and back down through
 * {@link ObjectStore#open} (verified) against the local stack's S3 server, and prints throughput and
 * peak heap. Run by {@code bench/artifact-store.sh}; see {@code bench/README.md}.
 */
public final class ArtifactStoreBench {
    private static final long MIB = 1024L * 1024L;
    /** Largest heap in use right after a collection: what the program actually retains. */
    private static final AtomicLong MAX_LIVE_AFTER_GC = new AtomicLong();

    private ArtifactStoreBench() {}

    public static void main(String[] args) throws IOException {
        try {
            run(args);
        } finally {
            System.exit(0); // the stack's server threads would keep the JVM alive; its shutdown hook stops them
        }
    }

    private static void run(String[] args) throws IOException {
        watchCollections();
        long sizeMib = args.length > 0 ? Long.parseLong(args[0])
                : Long.parseLong(System.getenv().getOrDefault("ANVIL_BENCH_MIB", "1024"));
        long size = sizeMib * MIB;

        System.out.printf("artifact-store bench: %d MiB artifact, JVM max heap %d MiB, %d CPUs%n",
                sizeMib, Runtime.getRuntime().maxMemory() / MIB, Runtime.getRuntime().availableProcessors());
        LocalStack stack = SharedLocalStack.get();
        MinioClient client = MinioClient.builder().endpoint(stack.s3Endpoint())
                .credentials(stack.config().s3AccessKey(), stack.config().s3SecretKey()).build();
        ObjectStore store = new ObjectStore(client, "bench-" + UUID.randomUUID().toString().substring(0, 8));
        store.ensureBucket();

        resetPeakHeap();
        long start = System.nanoTime();
        PutResult put = store.put(new GeneratedInputStream(size, 1), "application/octet-stream", Optional.empty());
        double upSeconds = (System.nanoTime() - start) / 1e9;
        long upPeak = peakHeap();
        long upLive = MAX_LIVE_AFTER_GC.get();
        if (put.ref().size() != size) {
            throw new IllegalStateException("stored " + put.ref().size() + " bytes, generated " + size);
        }

        resetPeakHeap();
        start = System.nanoTime();
        long read = 0;
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = store.open(put.ref())) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                read += n;
            }
        }
        double downSeconds = (System.nanoTime() - start) / 1e9;
        long downPeak = peakHeap();
        long downLive = MAX_LIVE_AFTER_GC.get();

        System.out.printf("sha256      %s (%d bytes, verified on read)%n", put.ref().sha256(), read);
        System.out.printf("up          %8.1f MiB/s  (%.1f s, put: hash + multipart upload to tmp/ + server-side copy)%n",
                sizeMib / upSeconds, upSeconds);
        System.out.printf("down        %8.1f MiB/s  (%.1f s, open + read + sha256 verify)%n", sizeMib / downSeconds, downSeconds);
        System.out.printf("peak heap   %8d MiB up, %d MiB down (sum of heap pool peaks; includes the in-process S3 server)%n",
                upPeak / MIB, downPeak / MIB);
        System.out.printf("live heap   %8s up, %s down (largest heap in use right after a GC)%n",
                mib(upLive), mib(downLive));
    }

    private static void resetPeakHeap() {
        System.gc();
        MAX_LIVE_AFTER_GC.set(0);
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
    }

    private static String mib(long liveAfterGc) {
        return liveAfterGc == 0 ? "no GC" : liveAfterGc / MIB + " MiB";
    }

    private static void watchCollections() {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) gc).addNotificationListener((notification, handback) -> {
                if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                    return;
                }
                GarbageCollectionNotificationInfo info =
                        GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                long used = info.getGcInfo().getMemoryUsageAfterGc().values().stream()
                        .mapToLong(MemoryUsage::getUsed).sum()
                        - nonHeapUsed(info);
                MAX_LIVE_AFTER_GC.accumulateAndGet(used, Math::max);
            }, null, null);
        }
    }

    /** GC info reports every pool; keep the heap ones (the collector's own pools). */
    private static long nonHeapUsed(GarbageCollectionNotificationInfo info) {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            MemoryUsage after = info.getGcInfo().getMemoryUsageAfterGc().get(pool.getName());
            if (pool.getType() != MemoryType.HEAP && after != null) {
                sum += after.getUsed();
            }
        }
        return sum;
    }

    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }
}
