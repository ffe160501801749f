package dev.anvil.workflows.pipeline;

import java.util.Map;

/** A task's outputs: artifact references (as {uri, sha256, size, mediaType}) or small JSON values. */
public record TaskResult(Map<String, Object> outputs) {}
