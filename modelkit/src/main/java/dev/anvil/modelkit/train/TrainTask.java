package dev.anvil.modelkit.train;

/** What a trained model predicts: a class (labels 0..K-1) or a number. */
public enum TrainTask {
    CLASSIFICATION, REGRESSION;

    public static TrainTask parse(String name) {
        return switch (name == null ? "classification" : name) {
            case "classification" -> CLASSIFICATION;
            case "regression" -> REGRESSION;
            default -> throw new IllegalArgumentException("task must be classification or regression, got '" + name + "'");
        };
    }

    public String wireName() {
        return name().toLowerCase();
    }
}
