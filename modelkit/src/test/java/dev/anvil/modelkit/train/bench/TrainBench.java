package dev.anvil.modelkit.train.bench;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.CsvDatasetImporter;
import dev.anvil.modelkit.train.TabularDatasets;
import dev.anvil.modelkit.train.TabularTrainer;
import dev.anvil.modelkit.train.TrainTask;
import dev.anvil.modelkit.train.TrainerSpec;
import dev.anvil.modelkit.train.TrainingData;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** bench/train.sh: training time and held-out quality of Tribuo trainers on breast_cancer and digits. */
public final class TrainBench {
    public static void main(String[] args) throws Exception {
        List<String> trainers = List.of(System.getenv().getOrDefault("ANVIL_BENCH_TRAINERS", "logistic,libsvm").split(","));
        System.out.printf("%-18s %-10s %6s %6s %8s %9s %9s %10s%n", "dataset", "trainer", "train", "test", "seconds",
                "accuracy", "macro_f1", "onnx_bytes");
        for (String file : List.of("breast_cancer.csv", "digits.csv.gz")) {
            TrainingData all = TabularDatasets.read(new CsvDatasetImporter("float_input")
                    .read(SharedData.file("sklearn/" + file)), null, null, TrainTask.CLASSIFICATION, null, file);
            List<TrainingData> parts = TabularDatasets.split(all, 0.25, 1);
            for (String trainer : trainers) {
                TrainerSpec spec = TrainerSpec.parse(trainer.trim(), TrainTask.CLASSIFICATION, Map.of());
                TabularTrainer.Result r = new TabularTrainer(OrtEnvironment.getEnvironment()).train(parts.get(0),
                        Optional.of(parts.get(1)), new TabularTrainer.Options(spec, 42, "float_input", true),
                        (p, e, n, l) -> {});
                Map<String, Object> v = r.validation().orElseThrow();
                System.out.printf("%-18s %-10s %6d %6d %8.2f %9s %9s %10d%n", file, trainer, parts.get(0).samples(),
                        parts.get(1).samples(), r.seconds(), v.get("accuracy"), v.get("macro_f1"), r.onnx().length);
            }
        }
    }
}
