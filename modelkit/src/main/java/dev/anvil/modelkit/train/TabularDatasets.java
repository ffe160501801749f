package dev.anvil.modelkit.train;

import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.NpyArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Reads a training set out of a dataset (see {@link Dataset}): one float input {@code [N, F]} of features, and
 * the targets in {@code labels.npy} (class indices; numbers for regression) or, for regression, in another input
 * {@code [N]} / {@code [N, 1]} named by {@code target}. Every mismatch is an {@link IllegalArgumentException} that
 * names the array and what was expected.
 */
public final class TabularDatasets {
    private TabularDatasets() {}

    /** The feature input's name: {@code input}, else the dataset's single input other than {@code target}. */
    public static String featureInput(Dataset dataset, String input, String target, String what) {
        List<String> names = new ArrayList<>(dataset.inputs().keySet());
        if (target != null) {
            names.remove(target);
        }
        if (input != null) {
            if (!dataset.inputs().containsKey(input)) {
                throw new IllegalArgumentException(what + " has no input '" + input + "'; its inputs are "
                        + dataset.inputs().keySet());
            }
            return input;
        }
        if (names.size() != 1) {
            throw new IllegalArgumentException(what + " has inputs " + names + "; name the feature input with with.input"
                    + " (training takes one [N, F] table of features)");
        }
        return names.get(0);
    }

    /**
     * @param features the number of feature columns the spec declares, or null to take the dataset's
     */
    public static TrainingData read(Dataset dataset, String input, Integer features, TrainTask task, String target,
            String what) {
        String name = featureInput(dataset, input, target, what);
        NpyArray x = dataset.inputs().get(name);
        long[] shape = x.shape();
        if (shape.length != 2 || !dataset.manifest().isBatched(name)) {
            throw new IllegalArgumentException(what + " input '" + name + "' has shape " + Arrays.toString(shape)
                    + "; training takes a table of features, [samples, features] (a CSV import gives one), not images,"
                    + " sequences or tokens");
        }
        if (dataset.manifest().isStateful()) {
            throw new IllegalArgumentException(what + " is a stateful (sequence) dataset; training takes independent rows");
        }
        int n = Math.toIntExact(shape[0]);
        int f = Math.toIntExact(shape[1]);
        if (features != null && features != f) {
            throw new IllegalArgumentException(what + " input '" + name + "' has " + f + " feature columns but"
                    + " with.features declares " + features + "; the data does not match the model it is meant for"
                    + " (check the dataset, or fix with.features)");
        }
        if (x.dtype() == dev.anvil.modelkit.datasets.NpyDtype.BOOL) {
            throw new IllegalArgumentException(what + " input '" + name + "' is boolean; store features as numbers");
        }
        float[] flat = x.toFloatArray();
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
            rows[i] = Arrays.copyOfRange(flat, i * f, (i + 1) * f);
            for (int j = 0; j < f; j++) {
                if (!Float.isFinite(rows[i][j])) {
                    throw new IllegalArgumentException(what + " input '" + name + "' sample " + i + " feature " + j
                            + " is " + rows[i][j] + "; features must be finite numbers");
                }
            }
        }
        if (task == TrainTask.REGRESSION && target != null) {
            NpyArray t = dataset.inputs().get(target);
            if (t == null) {
                throw new IllegalArgumentException(what + " has no input '" + target + "' (with.target); its inputs are "
                        + dataset.inputs().keySet());
            }
            if (!(t.rank() == 1 || (t.rank() == 2 && t.shape()[1] == 1)) || t.shape()[0] != n) {
                throw new IllegalArgumentException(what + " target '" + target + "' has shape " + Arrays.toString(t.shape())
                        + "; expected one number per sample, [" + n + "] or [" + n + ", 1]");
            }
            return new TrainingData(rows, null, t.toDoubleArray(), Optional.empty());
        }
        if (dataset.labels().isEmpty()) {
            throw new IllegalArgumentException(what + " has no labels.npy, so there is nothing to learn; import it with"
                    + " its label column, label it with the label operator"
                    + (task == TrainTask.REGRESSION ? ", or name a target input with with.target" : ""));
        }
        NpyArray labels = dataset.labels().get();
        if (task == TrainTask.CLASSIFICATION) {
            long[] l = labels.toLongArray();
            int[] classes = new int[n];
            for (int i = 0; i < n; i++) {
                if (l[i] < 0 || l[i] > 100_000) {
                    throw new IllegalArgumentException(what + " labels.npy sample " + i + " is " + l[i]
                            + "; class labels run from 0 to K-1");
                }
                classes[i] = (int) l[i];
            }
            return new TrainingData(rows, classes, null, Optional.empty());
        }
        return new TrainingData(rows, null, labels.toDoubleArray(), Optional.empty());
    }

    /**
     * The teacher's probabilities as soft targets: {@code soft}'s single input, [N, K], rows in the same order as
     * the training set's.
     */
    public static TrainingData withSoftLabels(TrainingData data, Dataset soft, String what) {
        if (soft.inputs().size() != 1) {
            throw new IllegalArgumentException(what + " must hold one array of probabilities [samples, classes]; it has "
                    + soft.inputs().keySet());
        }
        NpyArray p = soft.inputs().values().iterator().next();
        if (p.rank() != 2 || p.shape()[0] != data.samples()) {
            throw new IllegalArgumentException(what + " has shape " + Arrays.toString(p.shape()) + "; expected ["
                    + data.samples() + ", classes], one row per training sample");
        }
        int k = Math.toIntExact(p.shape()[1]);
        float[] flat = p.toFloatArray();
        float[][] rows = new float[data.samples()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = Arrays.copyOfRange(flat, i * k, (i + 1) * k);
            double sum = 0;
            for (float v : rows[i]) {
                if (!(v >= 0)) {
                    throw new IllegalArgumentException(what + " sample " + i + " has probability " + v
                            + "; soft labels are probabilities, 0 to 1");
                }
                sum += v;
            }
            if (Math.abs(sum - 1) > 1e-3) {
                throw new IllegalArgumentException(what + " sample " + i + " sums to " + sum
                        + "; soft labels are a probability per class and sum to 1");
            }
        }
        return new TrainingData(data.features(), data.classes(), data.values(), Optional.of(rows));
    }

    /** A seeded shuffle, then {@code fraction} of the samples held out for validation: {training, validation}. */
    public static List<TrainingData> split(TrainingData data, double fraction, long seed) {
        int n = data.samples();
        int held = (int) Math.round(n * fraction);
        if (held < 1 || held >= n) {
            throw new IllegalArgumentException("validation_fraction " + fraction + " of " + n + " samples leaves "
                    + held + " for validation and " + (n - held) + " for training; both need at least one");
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        java.util.Collections.shuffle(order, new Random(seed));
        int[] train = order.subList(held, n).stream().mapToInt(Integer::intValue).toArray();
        int[] validation = order.subList(0, held).stream().mapToInt(Integer::intValue).toArray();
        return List.of(data.take(train), data.take(validation));
    }
}
