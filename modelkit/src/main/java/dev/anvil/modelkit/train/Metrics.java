package dev.anvil.modelkit.train;

/** Training figures: accuracy and macro F1 for classes, RMSE, MAE and R² for numbers. */
public final class Metrics {
    private Metrics() {}

    public static int argmax(float[] scores) {
        int best = 0;
        for (int i = 1; i < scores.length; i++) {
            if (scores[i] > scores[best]) {
                best = i;
            }
        }
        return best;
    }

    public static double accuracy(int[] truth, int[] predicted) {
        int right = 0;
        for (int i = 0; i < truth.length; i++) {
            right += truth[i] == predicted[i] ? 1 : 0;
        }
        return truth.length == 0 ? Double.NaN : (double) right / truth.length;
    }

    /** The mean of per-class F1 over the classes that occur in the truth or the predictions. */
    public static double macroF1(int[] truth, int[] predicted, int classes) {
        int k = classes;
        for (int p : predicted) {
            k = Math.max(k, p + 1);
        }
        long[] tp = new long[k];
        long[] fp = new long[k];
        long[] fn = new long[k];
        for (int i = 0; i < truth.length; i++) {
            if (truth[i] == predicted[i]) {
                tp[truth[i]]++;
            } else {
                fp[predicted[i]]++;
                fn[truth[i]]++;
            }
        }
        double sum = 0;
        int counted = 0;
        for (int c = 0; c < k; c++) {
            if (tp[c] + fp[c] + fn[c] == 0) {
                continue;
            }
            sum += 2.0 * tp[c] / (2.0 * tp[c] + fp[c] + fn[c]);
            counted++;
        }
        return counted == 0 ? Double.NaN : sum / counted;
    }

    /** The share of samples whose predicted class is the teacher's most probable one. */
    public static double agreement(float[][] teacher, int[] predicted) {
        int same = 0;
        for (int i = 0; i < predicted.length; i++) {
            same += argmax(teacher[i]) == predicted[i] ? 1 : 0;
        }
        return predicted.length == 0 ? Double.NaN : (double) same / predicted.length;
    }

    public static double rmse(double[] truth, double[] predicted) {
        double sum = 0;
        for (int i = 0; i < truth.length; i++) {
            double d = truth[i] - predicted[i];
            sum += d * d;
        }
        return Math.sqrt(sum / truth.length);
    }

    public static double mae(double[] truth, double[] predicted) {
        double sum = 0;
        for (int i = 0; i < truth.length; i++) {
            sum += Math.abs(truth[i] - predicted[i]);
        }
        return sum / truth.length;
    }

    public static double r2(double[] truth, double[] predicted) {
        double mean = 0;
        for (double t : truth) {
            mean += t;
        }
        mean /= truth.length;
        double res = 0;
        double tot = 0;
        for (int i = 0; i < truth.length; i++) {
            res += (truth[i] - predicted[i]) * (truth[i] - predicted[i]);
            tot += (truth[i] - mean) * (truth[i] - mean);
        }
        return tot == 0 ? Double.NaN : 1 - res / tot;
    }

    public static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 1e6) / 1e6 : v;
    }
}
