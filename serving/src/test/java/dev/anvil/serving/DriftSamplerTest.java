package dev.anvil.serving;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.DriftWindow;
import dev.anvil.db.DriftWindowStore;
import dev.anvil.db.Migrations;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.modelkit.drift.LogHistogram;
import dev.anvil.modelkit.onnx.NonTensorModels;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The gateway samples each version's inputs (a bounded reservoir and per-feature histograms) and its predicted
 * classes, and publishes them to PostgreSQL for drift checks on other processes.
 */
class DriftSamplerTest {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void keepsABoundedSampleHistogramsAndClassCountsAndPublishesThem() throws Exception {
        DriftSampler sampler = new DriftSampler(16, 7);
        LoadedModel model = new LoadedModel("test", ENV.createSession(NonTensorModels.classifier(false),
                new OrtSession.SessionOptions()), 1);
        try {
            for (int i = 0; i < 50; i++) {
                // two rows per request: class 0 (first feature largest) and class 2 (third feature largest)
                serve(sampler, model, "[[" + (i + 1) + ", 0, 0, 0], [0, 0, 3, 0]]");
            }
        } finally {
            model.retire();
        }
        DriftSampler.Window window = sampler.windows().get(0);
        assertThat(window.endpoint()).isEqualTo("iris");
        assertThat(window.seen()).isEqualTo(100);
        assertThat(window.sample()).hasSize(16).allSatisfy(row -> assertThat(row).hasSize(4));
        assertThat(window.features()).containsExactly("features[0]", "features[1]", "features[2]", "features[3]");
        assertThat(window.classCounts()).containsExactly(50L, 0L, 50L);
        // every value of every row is in its feature's histogram: 50 zeros and 50 values 1..50 in feature 0
        List<Long> first = window.histograms().get(0);
        assertThat(first.stream().mapToLong(Long::longValue).sum()).isEqualTo(100);
        assertThat(first.get(LogHistogram.indexOf(0))).isEqualTo(50);
        assertThat(window.histograms().get(2).get(LogHistogram.indexOf(3))).isEqualTo(50);

        PGSimpleDataSource db = new PGSimpleDataSource();
        db.setURL(SharedLocalStack.freshDatabase("drift_windows"));
        db.setUser(SharedLocalStack.get().config().dbUser());
        db.setPassword(SharedLocalStack.get().config().dbPassword());
        Migrations.migrate(db);
        DriftWindowStore store = new DriftWindowStore(db);
        try (DriftWindowPublisher publisher = new DriftWindowPublisher(sampler, store, "api-1", Duration.ZERO)) {
            publisher.publish();
        }
        DriftWindow row = store.list("iris", 1).get(0);
        assertThat(row.seen()).isEqualTo(100);
        assertThat(row.classCounts()).containsExactly(50L, 0L, 50L);
        JsonNode sample = JSON.readTree(row.sampleJson());
        assertThat(sample.size()).isEqualTo(16);
        assertThat(sample.get(0).size()).isEqualTo(4);
    }

    @Test
    void samplingOffKeepsNothing() throws Exception {
        DriftSampler sampler = DriftSampler.off();
        LoadedModel model = new LoadedModel("test", ENV.createSession(NonTensorModels.classifier(false),
                new OrtSession.SessionOptions()), 1);
        try {
            serve(sampler, model, "[[1, 0, 0, 0]]");
        } finally {
            model.retire();
        }
        assertThat(sampler.windows()).isEmpty();
    }

    private static void serve(DriftSampler sampler, LoadedModel model, String rows) throws Exception {
        String body = "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [2, 4], \"data\": "
                + rows + "}]}";
        if (!rows.contains("], [")) {
            body = body.replace("[2, 4]", "[1, 4]");
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        try (V2Request request = V2RequestReader.read(ENV, model, ByteBuffer.allocateDirect(bytes.length).put(bytes)
                .flip(), -1)) {
            sampler.offerInputs("iris", 1, request.inputs());
            Gateway.run("iris", 1, false, model, request, sampler);
        }
    }
}
