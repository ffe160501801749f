package dev.anvil.modelkit.train;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.onnx.OrtSessions;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.ONNXExportable;
import org.tribuo.Trainer;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.datasource.ListDataSource;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuo.regression.RegressionFactory;
import org.tribuo.regression.Regressor;

/**
 * Trains a Tribuo model on a tabular set and exports it to ONNX ({@link ExportedModel}), then measures the ONNX
 * model itself in ONNX Runtime on the training and validation sets, so the figures are those of what is
 * published. Seeded throughout: the same data, trainer, parameters and seed give the same model bytes.
 */
public final class TabularTrainer {
    /** Soft-label weights below this are dropped: they change the loss by less than float rounding. */
    private static final float MIN_SOFT_WEIGHT = 1e-4f;
    private static final int SCORE_BATCH = 256;
    private final OrtEnvironment env;

    public TabularTrainer(OrtEnvironment env) {
        this.env = env;
    }

    /**
     * @param inputName   the ONNX model's input name (the dataset input's, so validate can run it on that dataset)
     * @param standardise learn each feature's mean and spread on the training set and apply them in the model
     */
    public record Options(TrainerSpec trainer, long seed, String inputName, boolean standardise) {}

    /** Progress: the phase, and for SGD trainers the epoch just finished and its average loss. */
    public interface Progress {
        void report(String phase, int epoch, int epochs, double loss);
    }

    /**
     * @param onnx            the model, ready to publish
     * @param train           figures on the training set (accuracy, macro_f1 / rmse, mae, r2)
     * @param validation      the same on the validation set, when there is one
     * @param lossCurve       average training loss per epoch (empty for trainers without epochs)
     * @param softLabelsUsed  whether soft labels were learnt (false: hard labels, see notes)
     */
    public record Result(byte[] onnx, int classes, Map<String, Object> train, Optional<Map<String, Object>> validation,
            List<Double> lossCurve, boolean softLabelsUsed, List<String> notes, double seconds) {}

    public Result train(TrainingData train, Optional<TrainingData> validation, Options options, Progress progress)
            throws OrtException {
        long started = System.nanoTime();
        TrainerSpec spec = options.trainer();
        int features = train.featureCount();
        List<String> notes = new ArrayList<>();
        boolean classification = spec.task() == TrainTask.CLASSIFICATION;
        int classes = classification ? classCount(train) : 0;
        boolean soft = classification && train.soft().isPresent() && spec.learnsSoftLabels();
        if (classification && train.soft().isPresent() && !soft) {
            notes.add("trainer " + spec.name() + " cannot learn soft labels (it ignores example weights"
                    + ("hinge".equals(spec.params().get("loss")) ? " with hinge loss" : "")
                    + "), so it learnt the hard labels; use logistic, linear_sgd or fm with log loss to learn the"
                    + " teacher's probabilities");
        }
        float[] mean = null;
        float[] scale = null;
        if (options.standardise()) {
            mean = new float[features];
            scale = new float[features];
            standardisation(train.features(), mean, scale);
        }
        String[] names = featureNames(features);
        List<org.tribuo.Example<Label>> labelled = new ArrayList<>();
        List<org.tribuo.Example<Regressor>> numeric = new ArrayList<>();
        for (int i = 0; i < train.samples(); i++) {
            double[] row = scaled(train.features()[i], mean, scale);
            if (!classification) {
                numeric.add(new ArrayExample<>(new Regressor("target", train.values()[i]), names, row));
            } else if (soft) {
                float[] p = train.soft().get()[i];
                for (int c = 0; c < p.length; c++) {
                    if (p[c] >= MIN_SOFT_WEIGHT) {
                        ArrayExample<Label> e = new ArrayExample<>(new Label(Integer.toString(c)), names, row);
                        e.setWeight(p[c]);
                        labelled.add(e);
                    }
                }
            } else {
                labelled.add(new ArrayExample<>(new Label(Integer.toString(train.classes()[i])), names, row));
            }
        }
        int examples = classification ? labelled.size() : numeric.size();
        int minibatch = spec.hasEpochs() ? spec.integer("minibatch") : 1;
        int loggingInterval = spec.hasEpochs() ? Math.max(1, (examples + minibatch - 1) / minibatch) : -1;
        int epochs = spec.hasEpochs() ? spec.integer("epochs") : 0;
        progress.report("train", 0, epochs, Double.NaN);
        Model<?> model;
        int[] epoch = {0};
        List<Double> losses;
        try (LossCurve curve = LossCurve.record(loss -> progress.report("train", ++epoch[0], epochs, loss))) {
            if (classification) {
                LabelFactory factory = new LabelFactory();
                MutableDataset<Label> data = new MutableDataset<>(new ListDataSource<>(labelled,
                        factory, new SimpleDataSourceProvenance("anvil train", factory)));
                Trainer<Label> trainer = TribuoTrainers.classification(spec, options.seed(), loggingInterval, features);
                model = trainer.train(data);
            } else {
                RegressionFactory factory = new RegressionFactory();
                MutableDataset<Regressor> data = new MutableDataset<>(new ListDataSource<>(numeric,
                        factory, new SimpleDataSourceProvenance("anvil train", factory)));
                Trainer<Regressor> trainer = TribuoTrainers.regression(spec, options.seed(), loggingInterval, features);
                model = trainer.train(data);
            }
            losses = curve.losses();
        }
        if (!(model instanceof ONNXExportable exportable)) {
            throw new IllegalArgumentException("trainer " + spec.name() + " made a " + model.getClass().getSimpleName()
                    + ", which Tribuo cannot export to ONNX; choose another trainer");
        }
        if (model.getFeatureIDMap().size() != features) {
            throw new IllegalStateException("Tribuo kept " + model.getFeatureIDMap().size() + " of the " + features
                    + " features; the exported model would not take the dataset's rows");
        }
        progress.report("export", epochs, epochs, Double.NaN);
        ModelProto tribuo;
        try {
            tribuo = ModelProto.parseFrom(exportable.exportONNXModel("dev.anvil.train", 1).toByteArray());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException("Tribuo's ONNX export did not parse: " + e.getMessage(), e);
        }
        int[] columns = classification ? classColumns(model, classes) : null;
        ModelProto finished = ExportedModel.finish(tribuo, options.inputName(), mean, scale, columns);

        progress.report("measure", epochs, epochs, Double.NaN);
        Map<String, Object> trainFigures;
        Optional<Map<String, Object>> validationFigures;
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession session = OrtSessions.open(env, finished, so)) {
            so.setIntraOpNumThreads(1);
            trainFigures = measure(session, options.inputName(), train, classification, classes);
            validationFigures = validation.isPresent()
                    ? Optional.of(measure(session, options.inputName(), validation.get(), classification, classes))
                    : Optional.empty();
        }
        return new Result(finished.toByteArray(), classes, trainFigures, validationFigures, losses, soft, notes,
                (System.nanoTime() - started) / 1e9);
    }

    /** Classes are labels 0..K-1, each with at least one training sample (the model has a column per class). */
    private static int classCount(TrainingData train) {
        int max = -1;
        for (int c : train.classes()) {
            if (c < 0) {
                throw new IllegalArgumentException("class labels are 0 or more, found " + c);
            }
            max = Math.max(max, c);
        }
        int classes = Math.max(max + 1, train.soft().map(s -> s.length == 0 ? 0 : s[0].length).orElse(0));
        boolean[] seen = new boolean[classes];
        for (int c : train.classes()) {
            seen[c] = true;
        }
        List<Integer> missing = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            if (!seen[c] && train.soft().isEmpty()) {
                missing.add(c);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("labels run 0.." + max + " but class" + (missing.size() > 1 ? "es " : " ")
                    + missing + " have no training sample; the model needs every class 0..K-1 in the training set"
                    + " (renumber the labels, or use a larger training split)");
        }
        if (classes < 2) {
            throw new IllegalArgumentException("the training set has a single class (" + max + "); a classifier needs two"
                    + " or more");
        }
        return classes;
    }

    /** The Tribuo output column that holds each class, in label order. */
    private static int[] classColumns(Model<?> model, int classes) {
        @SuppressWarnings("unchecked")
        ImmutableOutputInfo<Label> info = (ImmutableOutputInfo<Label>) model.getOutputIDInfo();
        int[] columns = new int[classes];
        for (int c = 0; c < classes; c++) {
            int id = info.getID(new Label(Integer.toString(c)));
            if (id < 0) {
                throw new IllegalArgumentException("class " + c + " has no sample with any weight in the training set;"
                        + " the model would have no column for it");
            }
            columns[c] = id;
        }
        if (info.size() != classes) {
            throw new IllegalStateException("Tribuo's model has " + info.size() + " classes, expected " + classes);
        }
        return columns;
    }

    /** Feature names that sort in column order, as Tribuo numbers features by name. */
    static String[] featureNames(int features) {
        int width = Integer.toString(Math.max(features - 1, 0)).length();
        String[] names = new String[features];
        for (int i = 0; i < features; i++) {
            names[i] = String.format("f%0" + width + "d", i);
        }
        return names;
    }

    private static void standardisation(float[][] rows, float[] mean, float[] scale) {
        int f = mean.length;
        double[] sum = new double[f];
        double[] sq = new double[f];
        for (float[] row : rows) {
            for (int j = 0; j < f; j++) {
                sum[j] += row[j];
            }
        }
        for (int j = 0; j < f; j++) {
            mean[j] = (float) (sum[j] / rows.length);
        }
        for (float[] row : rows) {
            for (int j = 0; j < f; j++) {
                double d = row[j] - mean[j];
                sq[j] += d * d;
            }
        }
        for (int j = 0; j < f; j++) {
            double sd = Math.sqrt(sq[j] / rows.length);
            scale[j] = sd > 1e-12 ? (float) sd : 1f; // a constant feature stays 0 after centring
        }
    }

    /** The row as the exported graph's Sub and Div compute it, in float, so training sees what the model sees. */
    private static double[] scaled(float[] row, float[] mean, float[] scale) {
        double[] out = new double[row.length];
        for (int j = 0; j < row.length; j++) {
            out[j] = mean == null ? row[j] : (row[j] - mean[j]) / scale[j];
        }
        return out;
    }

    /** Runs the exported model over the rows; the first output, one row of scores per sample. */
    public static float[][] predict(OrtEnvironment env, OrtSession session, String input, float[][] rows) throws OrtException {
        int features = rows.length == 0 ? 0 : rows[0].length;
        float[][] out = new float[rows.length][];
        for (int start = 0; start < rows.length; start += SCORE_BATCH) {
            int n = Math.min(SCORE_BATCH, rows.length - start);
            FloatBuffer buf = FloatBuffer.allocate(n * features);
            for (int i = 0; i < n; i++) {
                buf.put(rows[start + i]);
            }
            buf.flip();
            try (OnnxTensor tensor = OnnxTensor.createTensor(env, buf, new long[] {n, features});
                    OrtSession.Result result = session.run(Map.of(input, tensor))) {
                Object value = result.get(0).getValue();
                if (value instanceof float[][] scores) {
                    System.arraycopy(scores, 0, out, start, n);
                } else if (value instanceof float[] single) {
                    for (int i = 0; i < n; i++) {
                        out[start + i] = new float[] {single[i]};
                    }
                } else {
                    throw new IllegalStateException("the exported model's first output is a "
                            + value.getClass().getSimpleName() + ", expected float scores");
                }
            }
        }
        return out;
    }

    private Map<String, Object> measure(OrtSession session, String input, TrainingData data, boolean classification,
            int classes) throws OrtException {
        float[][] scores = predict(env, session, input, data.features());
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("samples", data.samples());
        if (classification) {
            int[] predicted = new int[scores.length];
            for (int i = 0; i < scores.length; i++) {
                predicted[i] = Metrics.argmax(scores[i]);
            }
            figures.put("accuracy", Metrics.round(Metrics.accuracy(data.classes(), predicted)));
            figures.put("macro_f1", Metrics.round(Metrics.macroF1(data.classes(), predicted, classes)));
            data.soft().ifPresent(soft -> figures.put("teacher_agreement", Metrics.round(Metrics.agreement(soft, predicted))));
        } else {
            double[] predicted = new double[scores.length];
            for (int i = 0; i < scores.length; i++) {
                predicted[i] = scores[i][0];
            }
            figures.put("rmse", Metrics.round(Metrics.rmse(data.values(), predicted)));
            figures.put("mae", Metrics.round(Metrics.mae(data.values(), predicted)));
            figures.put("r2", Metrics.round(Metrics.r2(data.values(), predicted)));
        }
        return figures;
    }
}
