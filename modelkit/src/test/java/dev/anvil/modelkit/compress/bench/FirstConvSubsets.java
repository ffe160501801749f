package dev.anvil.modelkit.compress.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.onnx.DatasetFeed;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Half of cnn_mnist's first Conv (5 of its 10 channels) removed every possible way: the accuracy of each of the
 * 252 choices, plain and with the removed channels' mean folded into the next Conv's bias, and which choice each
 * channel criterion makes. A removed channel is simulated by zeroing its weights and bias (after MaxPool and Relu
 * it is then 0, as if it were gone). See docs/compression.md, "Structured pruning by activation".
 */
final class FirstConvSubsets {
    private static final int CHANNELS = 10;
    private static final int KEEP = 5;
    private static final int KERNEL = 25; // 5×5, one input channel for conv1 and per input channel for conv2

    private final OrtEnvironment env;
    private final float[][] images;
    private final long[] labels;

    private FirstConvSubsets(OrtEnvironment env, float[][] images, long[] labels) {
        this.env = env;
        this.images = images;
        this.labels = labels;
    }

    static void run(OrtEnvironment env, Path model, Path calibration, Path evaluation, int samples) throws Exception {
        System.out.println("== cnn_mnist first Conv: every way to keep 5 of its 10 channels, " + samples
                + " evaluation images; statistics after MaxPool and Relu on the 256 calibration images");
        OnnxModel base = OnnxModel.read(model);
        double[][] stats = statistics(env, base, calibration); // sum, sum of squares, count
        double count = stats[2][0];
        float[] w1 = Tensors.toFloats(base.graph().initializer("conv1.weight").orElseThrow());
        float[] w2 = Tensors.toFloats(base.graph().initializer("conv2.weight").orElseThrow());
        double[] norm = new double[CHANNELS];
        double[] nextL1 = new double[CHANNELS];
        double[] nextL2 = new double[CHANNELS];
        for (int i = 0; i < w1.length; i++) {
            norm[i / KERNEL] += Math.abs(w1[i]);
        }
        for (int i = 0; i < w2.length; i++) {
            int c = (i / KERNEL) % CHANNELS;
            nextL1[c] += Math.abs(w2[i]);
            nextL2[c] += (double) w2[i] * w2[i];
        }
        double[] mean = new double[CHANNELS];
        double[] rms = new double[CHANNELS];
        double[] std = new double[CHANNELS];
        for (int c = 0; c < CHANNELS; c++) {
            mean[c] = stats[0][c] / count; // after a Relu, mean |a| is the mean
            rms[c] = Math.sqrt(stats[1][c] / count);
            std[c] = Math.sqrt(Math.max(0, rms[c] * rms[c] - mean[c] * mean[c]));
            nextL2[c] = Math.sqrt(nextL2[c]);
            System.out.printf("channel %d: L1(conv1 row) %.3f, mean %.2f, rms %.2f, std %.2f, L1(conv2 column) %.3f,"
                    + " L2 %.3f%n", c, norm[c], mean[c], rms[c], std[c], nextL1[c], nextL2[c]);
        }
        Map<String, double[]> criteria = new LinkedHashMap<>();
        criteria.put("L1 norm of conv1's weights", norm);
        criteria.put("mean |a| x L1 of conv2's weights", product(mean, nextL1));
        criteria.put("rms(a) x L2 of conv2's weights", product(rms, nextL2));
        criteria.put("std(a) x L2 of conv2's weights", product(std, nextL2));

        float[][] images;
        long[] labels;
        try (DatasetReader reader = DatasetReader.open(evaluation)) {
            Dataset data = reader.readAll();
            float[] all = data.inputs().get("input_image").toFloatArray();
            long[] allLabels = data.labels().orElseThrow().toLongArray();
            images = new float[samples][];
            labels = Arrays.copyOf(allLabels, samples);
            for (int i = 0; i < samples; i++) {
                images[i] = Arrays.copyOfRange(all, i * 784, (i + 1) * 784);
            }
        }
        FirstConvSubsets study = new FirstConvSubsets(env, images, labels);
        List<int[]> subsets = new ArrayList<>();
        choose(0, new int[KEEP], 0, subsets);
        Map<String, Double> plain = new HashMap<>();
        Map<String, Double> folded = new HashMap<>();
        for (int[] keep : subsets) {
            plain.put(Arrays.toString(keep), study.accuracy(base, keep, null));
            folded.put(Arrays.toString(keep), study.accuracy(base, keep, mean));
        }
        List<Double> plainSorted = plain.values().stream().sorted(Comparator.reverseOrder()).toList();
        List<Double> foldedSorted = folded.values().stream().sorted(Comparator.reverseOrder()).toList();
        System.out.printf("%d choices: removed %.2f%% best, %.2f%% median, %.2f%% worst; mean folded %.2f%% best,"
                + " %.2f%% median, %.2f%% worst%n", subsets.size(), 100 * plainSorted.get(0),
                100 * plainSorted.get(plainSorted.size() / 2), 100 * plainSorted.get(plainSorted.size() - 1),
                100 * foldedSorted.get(0), 100 * foldedSorted.get(foldedSorted.size() / 2),
                100 * foldedSorted.get(foldedSorted.size() - 1));
        for (Map.Entry<String, double[]> e : criteria.entrySet()) {
            String keep = Arrays.toString(top(e.getValue()));
            double a = plain.get(keep);
            double b = folded.get(keep);
            System.out.printf("%-34s keeps %s: removed %.2f%% (rank %d of %d), mean folded %.2f%% (rank %d)%n",
                    e.getKey(), keep, 100 * a, plainSorted.indexOf(a) + 1, subsets.size(), 100 * b,
                    foldedSorted.indexOf(b) + 1);
        }
    }

    /** Per channel of tensor "11" (conv1 → MaxPool → Relu): sum, sum of squares, and the count (in row 2). */
    private static double[][] statistics(OrtEnvironment env, OnnxModel base, Path calibration) throws Exception {
        ModelProto exposed = base.build().toBuilder().setGraph(base.build().getGraph().toBuilder().addOutput(
                ValueInfoProto.newBuilder().setName("11").setType(TypeProto.newBuilder().setTensorType(
                        TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))))).build();
        double[][] stats = new double[3][CHANNELS];
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession session = env.createSession(exposed.toByteArray(), so);
                DatasetReader reader = DatasetReader.open(calibration);
                DatasetFeed feed = DatasetFeed.open(env, session, reader, 32, 0)) {
            while (feed.hasNext()) {
                try (DatasetFeed.Batch batch = feed.next(); OrtSession.Result result = batch.run(session, Set.of("11"))) {
                    OnnxTensor t = (OnnxTensor) result.get("11").orElseThrow();
                    long[] shape = t.getInfo().getShape();
                    int inner = (int) (shape[2] * shape[3]);
                    FloatBuffer values = t.getFloatBuffer();
                    for (int i = 0; i < values.remaining(); i++) {
                        int c = (i / inner) % CHANNELS;
                        double v = values.get(i);
                        stats[0][c] += v;
                        stats[1][c] += v * v;
                    }
                    Arrays.fill(stats[2], stats[2][0] + shape[0] * inner);
                }
            }
        }
        return stats;
    }

    private static double[] product(double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] * b[i];
        }
        return r;
    }

    /** The KEEP channels of highest score, ascending (ties keep the lower index, as StructuredPruner does). */
    private static int[] top(double[] score) {
        Integer[] order = new Integer[score.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -score[i]).thenComparingInt(i -> i));
        int[] keep = new int[KEEP];
        for (int i = 0; i < KEEP; i++) {
            keep[i] = order[i];
        }
        Arrays.sort(keep);
        return keep;
    }

    private static void choose(int start, int[] current, int depth, List<int[]> out) {
        if (depth == KEEP) {
            out.add(current.clone());
            return;
        }
        for (int i = start; i < CHANNELS; i++) {
            current[depth] = i;
            choose(i + 1, current, depth + 1, out);
        }
    }

    /** Top-1 with the channels not in {@code keep} zeroed, and their {@code mean} (when given) folded into conv2's bias. */
    private double accuracy(OnnxModel base, int[] keep, double[] mean) throws Exception {
        ModelProto.Builder proto = base.build().toBuilder();
        boolean[] kept = new boolean[CHANNELS];
        for (int k : keep) {
            kept[k] = true;
        }
        var graph = proto.getGraphBuilder();
        float[] w2 = Tensors.toFloats(base.graph().initializer("conv2.weight").orElseThrow());
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            TensorProto t = graph.getInitializer(i);
            float[] v = Tensors.toFloats(t);
            if (t.getName().equals("conv1.weight") || t.getName().equals("conv1.bias")) {
                int per = v.length / CHANNELS;
                for (int j = 0; j < v.length; j++) {
                    if (!kept[j / per]) {
                        v[j] = 0;
                    }
                }
            } else if (t.getName().equals("conv2.bias") && mean != null) {
                for (int j = 0; j < w2.length; j++) { // conv2 has no padding: the fold is exact
                    int c = (j / KERNEL) % CHANNELS;
                    if (!kept[c]) {
                        v[j / (KERNEL * CHANNELS)] += (float) (mean[c] * w2[j]);
                    }
                }
            } else {
                continue;
            }
            graph.setInitializer(i, Tensors.floats(t.getName(), Tensors.dims(t), v));
        }
        int correct = 0;
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession session = env.createSession(proto.build().toByteArray(), so)) {
            for (int start = 0; start < images.length; start += 500) {
                int n = Math.min(500, images.length - start);
                float[] x = new float[n * 784];
                for (int i = 0; i < n; i++) {
                    System.arraycopy(images[start + i], 0, x, i * 784, 784);
                }
                try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {n, 1, 28, 28});
                        OrtSession.Result result = session.run(Map.of("input_image", in))) {
                    float[][] scores = (float[][]) result.get(0).getValue();
                    for (int i = 0; i < n; i++) {
                        int best = 0;
                        for (int k = 1; k < scores[i].length; k++) {
                            if (scores[i][k] > scores[i][best]) {
                                best = k;
                            }
                        }
                        if (best == labels[start + i]) {
                            correct++;
                        }
                    }
                }
            }
        }
        return (double) correct / images.length;
    }
}
