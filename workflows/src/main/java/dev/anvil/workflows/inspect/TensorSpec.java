package dev.anvil.workflows.inspect;

import java.util.List;

/** One model input or output: name, element type and shape (-1 or a symbolic name for a free dimension). */
public record TensorSpec(String name, String elementType, List<String> shape) {}
