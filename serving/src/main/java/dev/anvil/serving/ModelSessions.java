package dev.anvil.serving;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OrtSessions;
import dev.anvil.modelkit.tflite.InvalidTfliteModelException;
import dev.anvil.modelkit.tflite.TfliteModel;
import dev.anvil.storage.ObjectStore;
import dev.anvil.storage.StoredObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Warm models by artifact sha256 (an ONNX Runtime session, or the TFLite interpreter for an artifact that carries
 * the TFLite flatbuffer identifier "TFL3"), loaded once from the artifact store (checksum verified
 * on download) on a loader thread of their own, so a version that is loading never holds up
 * requests to a version that is warm.
 */
public final class ModelSessions implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ModelSessions.class.getName());
    private final ObjectStore objects;
    private final OrtEnvironment env;
    private final int intraOpThreads;
    private final int maxConcurrentPerModel;
    private final ConcurrentHashMap<String, CompletableFuture<LoadedModel>> models = new ConcurrentHashMap<>();
    private final Reports reports;
    private final ExecutorService loader = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "anvil-model-loader");
        t.setDaemon(true);
        return t;
    });

    /**
     * Where this process says what it holds, so that a rollout on another process knows when a version is
     * ready to take traffic ({@link SessionReports}).
     */
    public interface Reports {
        Reports NONE = new Reports() {
            @Override
            public void loaded(String sha256) {
            }

            @Override
            public void failed(String sha256, String error) {
            }

            @Override
            public void holding(Set<String> sha256s) {
            }
        };

        void loaded(String sha256);

        void failed(String sha256, String error);

        /** The artifacts with a session loaded or loading, after every change to the set. */
        void holding(Set<String> sha256s);
    }

    /** The requests a model runs at once unless told otherwise (anvil.gateway.max-concurrent-per-model). */
    public static final int DEFAULT_MAX_CONCURRENT_PER_MODEL = 4;

    /** @param intraOpThreads threads per inference (0: ORT's default, all cores) */
    public ModelSessions(ObjectStore objects, OrtEnvironment env, int intraOpThreads) {
        this(objects, env, intraOpThreads, Reports.NONE);
    }

    public ModelSessions(ObjectStore objects, OrtEnvironment env, int intraOpThreads, Reports reports) {
        this(objects, env, intraOpThreads, DEFAULT_MAX_CONCURRENT_PER_MODEL, reports);
    }

    /** @param maxConcurrentPerModel the most requests one loaded model runs at once (see {@link LoadedModel}) */
    public ModelSessions(ObjectStore objects, OrtEnvironment env, int intraOpThreads, int maxConcurrentPerModel,
                         Reports reports) {
        if (maxConcurrentPerModel < 1) {
            throw new IllegalArgumentException("anvil.gateway.max-concurrent-per-model is " + maxConcurrentPerModel
                    + "; it must be at least 1");
        }
        this.objects = objects;
        this.env = env;
        this.intraOpThreads = intraOpThreads;
        this.maxConcurrentPerModel = maxConcurrentPerModel;
        this.reports = reports;
    }

    /** The model, loading it if no one has yet. A failed load is forgotten, so the next call retries. */
    public CompletableFuture<LoadedModel> load(String sha256) {
        return models.computeIfAbsent(sha256, sha -> {
            CompletableFuture<LoadedModel> future = CompletableFuture.supplyAsync(() -> read(sha), loader);
            future.whenComplete((m, e) -> {
                if (e != null) {
                    models.remove(sha, future);
                    Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                            ? e.getCause() : e;
                    report(() -> reports.failed(sha, cause.getMessage()));
                } else {
                    report(() -> reports.loaded(sha));
                }
            });
            return future;
        });
    }

    /** Unloads every model not in keep (the artifacts the routes need); requests still running on one finish first. */
    public void retainOnly(Set<String> keep) {
        models.forEach((sha, future) -> {
            if (!keep.contains(sha) && models.remove(sha, future)) {
                future.thenAccept(LoadedModel::retire);
            }
        });
        report(() -> reports.holding(Set.copyOf(keep)));
    }

    /** A report that cannot be written costs a rollout some waiting, never a request its answer. */
    private static void report(Runnable write) {
        try {
            write.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "could not report the serving sessions: {0}", e.getMessage());
        }
    }

    /** Artifacts with a session loaded or loading. */
    public Set<String> loaded() {
        return Set.copyOf(models.keySet());
    }

    private LoadedModel read(String sha) {
        StoredObject ref = objects.find(sha).orElseThrow(() -> new GatewayException(503, null,
                "artifact " + sha + " is not in the artifact store; upload it again"));
        Path file = null;
        try {
            file = Files.createTempFile("anvil-serving-", ".onnx");
            objects.copyTo(ref, file);
            if (TfliteModel.isTflite(file)) {
                return new LoadedModel(sha, new TfliteEngine(env, TfliteModel.open(file, Math.max(1, intraOpThreads))),
                        maxConcurrentPerModel);
            }
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                if (intraOpThreads > 0) {
                    options.setIntraOpNumThreads(intraOpThreads);
                }
                return new LoadedModel(sha, OrtSessions.open(env, file, options), maxConcurrentPerModel);
            }
        } catch (OrtException e) {
            throw new GatewayException(503, null, "artifact " + sha + " cannot be loaded by ONNX Runtime: "
                    + e.getMessage(), e);
        } catch (InvalidModelException e) {
            // the artifact itself is refused (e.g. it points at external data): no retry will load it
            throw new GatewayException(503, null, "artifact " + sha + " cannot be served: " + e.getMessage(), e);
        } catch (InvalidTfliteModelException e) {
            // a corrupt or truncated flatbuffer: no retry will load it
            throw new GatewayException(503, null, "artifact " + sha + " cannot be served: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("downloading artifact " + sha + " failed: " + e.getMessage(), e);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a temp file left behind is harmless
                }
            }
        }
    }

    @Override
    public void close() {
        retainOnly(Set.of());
        loader.shutdownNow();
    }
}
