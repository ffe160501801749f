package dev.anvil.workflows.inspect;

import dev.anvil.workflows.ArtifactRef;

/** Inspect {@code model}; {@code submittedBy} is recorded on the run. */
public record InspectRequest(ArtifactRef model, String submittedBy) {}
