package dev.anvil.db;

import java.time.Instant;

/** A row of models: a name under which versions are registered. */
public record Model(String name, String description, Instant createdAt) {
}
