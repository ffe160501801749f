package dev.anvil.modelkit.onnx;

import java.util.Map;

/** What the ONNX file itself says, read without building a session. */
public record ModelStructure(
        long irVersion,
        Map<String, Long> opsets,
        String producer,
        String graphName,
        int nodeCount,
        long parameterCount) {}
