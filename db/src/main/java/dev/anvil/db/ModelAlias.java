package dev.anvil.db;

import java.time.Instant;

/** A row of model_aliases: a movable name (such as "production") for one version of a model. */
public record ModelAlias(String model, String alias, int version, Instant updatedAt) {
}
