package dev.anvil.modelkit.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A trainer by name with its hyper-parameters, checked before any work: an unknown trainer or parameter, a value
 * of the wrong type or out of range is an {@link IllegalArgumentException} naming it and the valid choices.
 * Defaults are filled in, so {@link #params()} is what the model was trained with.
 *
 * <p>Trainers: {@code logistic} (multinomial logistic regression by SGD), {@code linear_sgd}, {@code fm}
 * (factorization machine), {@code liblinear}, {@code libsvm}, and the ensembles {@code bagging} and
 * {@code adaboost} (classification) over one of the others ({@code params.base}, {@code params.base_params}).
 */
public record TrainerSpec(String name, TrainTask task, Map<String, Object> params, TrainerSpec base) {
    public static final List<String> TRAINERS = List.of("logistic", "linear_sgd", "fm", "liblinear", "libsvm",
            "bagging", "adaboost");
    private static final Set<String> SGD = Set.of("logistic", "linear_sgd", "fm");

    /** Parameters, their defaults and what they may be. */
    private static Map<String, Param> allowed(String trainer, TrainTask task) {
        Map<String, Param> p = new LinkedHashMap<>();
        boolean classification = task == TrainTask.CLASSIFICATION;
        switch (trainer) {
            case "logistic", "linear_sgd", "fm" -> {
                p.put("epochs", Param.integer(10, 1, 10_000));
                p.put("learning_rate", Param.number(trainer.equals("fm") ? 0.1 : 1.0, 1e-9, 1e6));
                p.put("minibatch", Param.integer(1, 1, 1_000_000));
                p.put("optimiser", Param.choice("adagrad", "adagrad", "adam", "sgd"));
                if (!trainer.equals("logistic")) {
                    p.put("loss", classification ? Param.choice("log", "log", "hinge")
                            : Param.choice("squared", "squared", "absolute", "huber"));
                }
                if (trainer.equals("fm")) {
                    p.put("factors", Param.integer(6, 1, 1024));
                    p.put("variance", Param.number(0.1, 1e-9, 100));
                }
            }
            case "liblinear" -> {
                p.put("type", classification
                        ? Param.choice("l2r_lr", "l2r_lr", "l2r_l2loss_svc_dual", "l2r_l2loss_svc", "l2r_l1loss_svc_dual",
                                "mcsvm_cs", "l1r_l2loss_svc", "l1r_lr", "l2r_lr_dual")
                        : Param.choice("l2r_l2loss_svr", "l2r_l2loss_svr", "l2r_l2loss_svr_dual", "l2r_l1loss_svr_dual"));
                p.put("cost", Param.number(1.0, 1e-9, 1e9));
                p.put("max_iterations", Param.integer(1000, 1, 1_000_000));
                p.put("tolerance", Param.number(0.01, 1e-12, 10));
                if (!classification) {
                    p.put("epsilon", Param.number(0.1, 0, 1e6));
                }
            }
            case "libsvm" -> {
                p.put("kernel", Param.choice("rbf", "rbf", "linear", "poly", "sigmoid"));
                p.put("cost", Param.number(1.0, 1e-9, 1e9));
                p.put("gamma", Param.number(0.0, 0, 1e6)); // 0: 1 / features
                p.put("degree", Param.integer(3, 1, 10));
                p.put("coef0", Param.number(0.0, -1e6, 1e6));
                if (!classification) {
                    p.put("epsilon", Param.number(0.1, 0, 1e6));
                }
            }
            case "bagging", "adaboost" -> {
                p.put("base", Param.choice(trainer.equals("adaboost") ? "logistic" : "logistic",
                        "logistic", "linear_sgd", "fm", "liblinear", "libsvm"));
                p.put("members", Param.integer(10, 1, 500));
                p.put("base_params", Param.map());
            }
            default -> throw new IllegalStateException(trainer);
        }
        return p;
    }

    public static TrainerSpec parse(String trainer, TrainTask task, Map<String, ?> params) {
        if (trainer == null) {
            throw new IllegalArgumentException("with.trainer is required: one of " + TRAINERS);
        }
        if (!TRAINERS.contains(trainer)) {
            throw new IllegalArgumentException("unknown trainer '" + trainer + "'; expected one of " + TRAINERS);
        }
        if (trainer.equals("adaboost") && task != TrainTask.CLASSIFICATION) {
            throw new IllegalArgumentException("trainer adaboost is for classification only; for regression use bagging");
        }
        Map<String, Param> allowed = allowed(trainer, task);
        Map<String, ?> given = params == null ? Map.of() : params;
        Set<String> unknown = new TreeSet<>(given.keySet());
        unknown.removeAll(allowed.keySet());
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown parameter" + (unknown.size() > 1 ? "s " : " ") + unknown
                    + " for trainer " + trainer + " (" + task.wireName() + "); its parameters are " + allowed.keySet());
        }
        Map<String, Object> resolved = new TreeMap<>();
        for (Map.Entry<String, Param> e : allowed.entrySet()) {
            resolved.put(e.getKey(), e.getValue().check(trainer, e.getKey(), given.get(e.getKey())));
        }
        TrainerSpec base = null;
        if (resolved.containsKey("base")) {
            @SuppressWarnings("unchecked")
            Map<String, ?> baseParams = (Map<String, ?>) resolved.get("base_params");
            try {
                base = parse((String) resolved.get("base"), task, baseParams);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(trainer + " base_params: " + e.getMessage(), e);
            }
            resolved.put("base_params", base.params());
        }
        return new TrainerSpec(trainer, task, java.util.Collections.unmodifiableMap(resolved), base);
    }

    /** Whether the trainer goes over the data in epochs (and so has a loss curve). */
    public boolean hasEpochs() {
        return SGD.contains(name);
    }

    /**
     * Whether it honours example weights, which is how soft labels are learnt: each sample becomes one weighted
     * example per class, so the log loss is the cross-entropy against the teacher's probabilities.
     */
    public boolean learnsSoftLabels() {
        return SGD.contains(name) && task == TrainTask.CLASSIFICATION && !"hinge".equals(params.get("loss"));
    }

    int integer(String key) {
        return ((Number) params.get(key)).intValue();
    }

    double number(String key) {
        return ((Number) params.get(key)).doubleValue();
    }

    String string(String key) {
        return (String) params.get(key);
    }

    /** One parameter's rule. */
    private record Param(String kind, Object fallback, double min, double max, List<String> choices) {
        static Param integer(int fallback, int min, int max) {
            return new Param("integer", fallback, min, max, List.of());
        }

        static Param number(double fallback, double min, double max) {
            return new Param("number", fallback, min, max, List.of());
        }

        static Param choice(String fallback, String... choices) {
            return new Param("choice", fallback, 0, 0, List.of(choices));
        }

        static Param map() {
            return new Param("map", Map.of(), 0, 0, List.of());
        }

        Object check(String trainer, String key, Object value) {
            String where = trainer + " parameter " + key;
            if (value == null) {
                return fallback;
            }
            switch (kind) {
                case "integer", "number" -> {
                    if (!(value instanceof Number n) || (kind.equals("integer") && n.doubleValue() != Math.rint(n.doubleValue()))) {
                        throw new IllegalArgumentException(where + " must be " + (kind.equals("integer") ? "an integer" : "a number")
                                + ", got " + value);
                    }
                    double d = n.doubleValue();
                    if (d < min || d > max) {
                        throw new IllegalArgumentException(where + " must be between " + fmt(min) + " and " + fmt(max)
                                + ", got " + value);
                    }
                    return kind.equals("integer") ? (Object) n.intValue() : (Object) d;
                }
                case "choice" -> {
                    String s = String.valueOf(value).toLowerCase(Locale.ROOT);
                    if (!choices.contains(s)) {
                        throw new IllegalArgumentException(where + " must be one of " + choices + ", got '" + value + "'");
                    }
                    return s;
                }
                default -> {
                    if (!(value instanceof Map<?, ?> m)) {
                        throw new IllegalArgumentException(where + " must be a map of the base trainer's parameters, got " + value);
                    }
                    Map<String, Object> copy = new LinkedHashMap<>();
                    m.forEach((k, v) -> copy.put(String.valueOf(k), v));
                    return copy;
                }
            }
        }

        private static String fmt(double d) {
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf((long) d) : String.valueOf(d);
        }
    }

    /** For error messages: every trainer and its parameters. */
    public static List<String> describe(TrainTask task) {
        List<String> out = new ArrayList<>();
        for (String t : TRAINERS) {
            if (!(t.equals("adaboost") && task == TrainTask.REGRESSION)) {
                out.add(t + " " + allowed(t, task).keySet());
            }
        }
        return out;
    }
}
