package dev.anvil.devstack;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Real test material from the project's shared/data folder, which sits beside the repository. The
 * build passes its location as {@code -Dtest.shared.data}. A missing file fails with its name; tests
 * that need it never pass silently.
 */
public final class SharedData {
    private SharedData() {}

    public static Path file(String relative) {
        String base = System.getProperty("test.shared.data", "../shared/data");
        Path file = Path.of(base).resolve(relative).toAbsolutePath().normalize();
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("missing test material " + file
                    + ": the tests expect the project's shared/ folder beside the repository (see shared/data/README.md)");
        }
        return file;
    }

    /** The real CNN digit classifier: opset 9, input input_image f32[b,1,28,28], output output_probs f32[b,10]. */
    public static Path cnnMnist() {
        return file("models/cnn_mnist.onnx");
    }
}
