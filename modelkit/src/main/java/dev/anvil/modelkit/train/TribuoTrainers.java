package dev.anvil.modelkit.train;

import java.util.Locale;
import org.tribuo.Trainer;
import org.tribuo.classification.Label;
import org.tribuo.classification.ensemble.AdaBoostTrainer;
import org.tribuo.classification.ensemble.VotingCombiner;
import org.tribuo.classification.liblinear.LibLinearClassificationTrainer;
import org.tribuo.classification.liblinear.LinearClassificationType;
import org.tribuo.classification.libsvm.LibSVMClassificationTrainer;
import org.tribuo.classification.libsvm.SVMClassificationType;
import org.tribuo.classification.sgd.LabelObjective;
import org.tribuo.classification.sgd.fm.FMClassificationTrainer;
import org.tribuo.classification.sgd.objectives.Hinge;
import org.tribuo.classification.sgd.objectives.LogMulticlass;
import org.tribuo.common.libsvm.KernelType;
import org.tribuo.common.libsvm.SVMParameters;
import org.tribuo.ensemble.BaggingTrainer;
import org.tribuo.math.StochasticGradientOptimiser;
import org.tribuo.math.optimisers.AdaGrad;
import org.tribuo.math.optimisers.Adam;
import org.tribuo.math.optimisers.SGD;
import org.tribuo.regression.Regressor;
import org.tribuo.regression.ensemble.AveragingCombiner;
import org.tribuo.regression.liblinear.LibLinearRegressionTrainer;
import org.tribuo.regression.liblinear.LinearRegressionType;
import org.tribuo.regression.libsvm.LibSVMRegressionTrainer;
import org.tribuo.regression.libsvm.SVMRegressionType;
import org.tribuo.regression.sgd.RegressionObjective;
import org.tribuo.regression.sgd.fm.FMRegressionTrainer;
import org.tribuo.regression.sgd.objectives.AbsoluteLoss;
import org.tribuo.regression.sgd.objectives.Huber;
import org.tribuo.regression.sgd.objectives.SquaredLoss;

/** Tribuo trainers built from a {@link TrainerSpec}; every one is seeded. */
final class TribuoTrainers {
    static {
        // both libraries print their solver's progress to stdout, which is the worker's log; the figures that
        // matter are reported as task outputs
        libsvm.svm.svm_set_print_string_function(s -> { });
        de.bwaldvogel.liblinear.Linear.disableDebugOutput();
    }

    private TribuoTrainers() {}

    /** @param loggingInterval SGD minibatches between loss reports (one epoch's worth gives one point per epoch) */
    static Trainer<Label> classification(TrainerSpec s, long seed, int loggingInterval, int features) {
        return switch (s.name()) {
            case "logistic", "linear_sgd" -> new org.tribuo.classification.sgd.linear.LinearSGDTrainer(labelObjective(s),
                    optimiser(s), s.integer("epochs"), loggingInterval, s.integer("minibatch"), seed);
            case "fm" -> new FMClassificationTrainer(labelObjective(s), optimiser(s), s.integer("epochs"), loggingInterval,
                    s.integer("minibatch"), seed, s.integer("factors"), s.number("variance"));
            case "liblinear" -> new LibLinearClassificationTrainer(new LinearClassificationType(
                    LinearClassificationType.LinearType.valueOf(s.string("type").toUpperCase(Locale.ROOT))),
                    s.number("cost"), s.integer("max_iterations"), s.number("tolerance"), seed);
            case "libsvm" -> {
                SVMParameters<Label> p = new SVMParameters<>(new SVMClassificationType(SVMClassificationType.SVMMode.C_SVC),
                        kernel(s));
                svm(s, p, features);
                yield new LibSVMClassificationTrainer(p, seed);
            }
            case "bagging" -> new BaggingTrainer<>(classification(s.base(), seed, -1, features), new VotingCombiner(),
                    s.integer("members"), seed);
            case "adaboost" -> new AdaBoostTrainer(classification(s.base(), seed, -1, features), s.integer("members"), seed);
            default -> throw new IllegalStateException(s.name());
        };
    }

    static Trainer<Regressor> regression(TrainerSpec s, long seed, int loggingInterval, int features) {
        return switch (s.name()) {
            case "logistic", "linear_sgd" -> new org.tribuo.regression.sgd.linear.LinearSGDTrainer(regressionObjective(s),
                    optimiser(s), s.integer("epochs"), loggingInterval, s.integer("minibatch"), seed);
            case "fm" -> new FMRegressionTrainer(regressionObjective(s), optimiser(s), s.integer("epochs"), loggingInterval,
                    s.integer("minibatch"), seed, s.integer("factors"), s.number("variance"), false);
            case "liblinear" -> new LibLinearRegressionTrainer(new LinearRegressionType(
                    LinearRegressionType.LinearType.valueOf(s.string("type").toUpperCase(Locale.ROOT))),
                    s.number("cost"), s.integer("max_iterations"), s.number("tolerance"), s.number("epsilon"), seed);
            case "libsvm" -> {
                SVMParameters<Regressor> p = new SVMParameters<>(
                        new SVMRegressionType(SVMRegressionType.SVMMode.EPSILON_SVR), kernel(s));
                svm(s, p, features);
                p.setEpsilon(s.number("epsilon"));
                yield new LibSVMRegressionTrainer(p, false, seed);
            }
            case "bagging" -> new BaggingTrainer<>(regression(s.base(), seed, -1, features), new AveragingCombiner(),
                    s.integer("members"), seed);
            default -> throw new IllegalStateException(s.name());
        };
    }

    private static LabelObjective labelObjective(TrainerSpec s) {
        return "hinge".equals(s.params().get("loss")) ? new Hinge() : new LogMulticlass();
    }

    private static RegressionObjective regressionObjective(TrainerSpec s) {
        return switch (String.valueOf(s.params().get("loss"))) {
            case "absolute" -> new AbsoluteLoss();
            case "huber" -> new Huber();
            default -> new SquaredLoss();
        };
    }

    private static StochasticGradientOptimiser optimiser(TrainerSpec s) {
        double rate = s.number("learning_rate");
        return switch (s.string("optimiser")) {
            case "adam" -> new Adam(rate, 1e-8);
            case "sgd" -> SGD.getLinearDecaySGD(rate);
            default -> new AdaGrad(rate, 0.1);
        };
    }

    private static KernelType kernel(TrainerSpec s) {
        return KernelType.valueOf(s.string("kernel").toUpperCase(Locale.ROOT));
    }

    private static <T extends org.tribuo.Output<T>> void svm(TrainerSpec s, SVMParameters<T> p, int features) {
        p.setCost(s.number("cost"));
        // libsvm's usual default, stated so the model does not depend on a library's choice
        p.setGamma(s.number("gamma") > 0 ? s.number("gamma") : 1.0 / features);
        p.setDegree(s.integer("degree"));
        p.setCoeff(s.number("coef0"));
    }
}
