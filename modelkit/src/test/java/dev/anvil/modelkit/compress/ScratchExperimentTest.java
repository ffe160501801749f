package dev.anvil.modelkit.compress;

import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScratchExperimentTest {
    @TempDir
    Path dir;

    @Test
    void explore() throws Exception {
        CompressTestModels.Mnist mnist = CompressTestModels.Mnist.in(dir);
        long original = Files.size(mnist.model());
        OnnxModel m0 = OnnxModel.read(mnist.model());
        m0.graph().initializers().values().forEach(t -> System.out.println("init " + t.getName() + " "
                + java.util.Arrays.toString(Tensors.dims(t)) + " " + Tensors.storedBytes(t)));
        System.out.println("nodes " + m0.graph().nodes().size() + " proto " + m0.toBytes().length);
        String[] specs = System.getProperty("specs", "").split(";");
        for (String spec : specs) {
            if (spec.isBlank()) continue;
            // spec: prune,perChannel,zero,bitsConv,bitsConv_1,bitsGemm,bitsGemm_1
            String[] p = spec.split(",");
            double prune = Double.parseDouble(p[0]);
            boolean pc = p[1].equals("1");
            boolean zero = p[2].equals("1");
            OnnxModel model = OnnxModel.read(mnist.model());
            if (System.getProperty("op13") != null) {
                model.setOpset("", 13);
                model.proto().setIrVersion(7);
            }
            if (prune > 0) {
                MagnitudePruner.prune(model, PruneOptions.uniform(prune));
            }
            Map<String, Integer> bits = Map.of("Conv", Integer.parseInt(p[3]), "Conv_1", Integer.parseInt(p[4]),
                    "Gemm", Integer.parseInt(p[5]), "Gemm_1", Integer.parseInt(p[6]));
            ClusterReport r = WeightClusterer.cluster(model, new ClusterOptions(4, ClusterOptions.Init.LINEAR, 0, pc, 50,
                    Set.of(), false, true, bits, zero));
            if (System.getProperty("dump") != null) {
                model.graph().nodes().forEach(n -> System.out.println("node " + n.getSerializedSize() + " " + n.getOpType() + " " + n.getName() + " " + n.getInputList() + " -> " + n.getOutputList()));
                model.graph().initializers().values().forEach(t -> System.out.println("tinit " + t.getSerializedSize() + " " + t.getName()));
                System.out.println("value_info " + model.graph().proto().getValueInfoCount() + " meta " + model.proto().getMetadataPropsList());
            }
            Path out = dir.resolve("m.onnx");
            model.write(out);
            ModelComparator.Comparison c = new ModelComparator(CompressTestModels.ENV).compare(out, mnist.model(),
                    mnist.evaluation(), ModelComparator.Pooling.NONE, 64, 0, (d, t) -> {});
            System.out.printf("RESULT %-22s size %,d ratio %.3f top1 %.2f drop %.2f weights %,d%n", spec, Files.size(out),
                    (double) original / Files.size(out), 100 * c.candidateAccuracy(),
                    c.accuracyDropPoints().orElseThrow(), r.weightBytesAfter());
        }
    }
}
