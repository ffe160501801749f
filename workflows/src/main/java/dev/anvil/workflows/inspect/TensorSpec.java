package dev.anvil.workflows.inspect;

import java.util.List;

/**
 * One model input or output: name, element type and shape (-1 or a symbolic name for a free dimension).
 * A value that is not a tensor has its ONNX type as elementType ({@code seq(map(int64,tensor(float)))} for
 * a ZipMap classifier's probabilities) and an empty shape.
 */
public record TensorSpec(String name, String elementType, List<String> shape) {}
