package dev.anvil.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** The model registry: models, their numbered versions, and aliases pointing at versions. */
public final class ModelRegistryStore {

    private static final String VERSION_COLUMNS =
            "model, version, artifact_sha256, created_by_task_run, metadata::text AS metadata, created_at";

    private final Jdbc jdbc;

    public ModelRegistryStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /** Creates a model, or returns the existing one unchanged (the description is not updated). */
    public Model createModel(String name, String description) {
        Validate.notNull("models", "create", "name", name);
        return jdbc.withConnection("models", "create", c -> {
            Jdbc.update(c, "INSERT INTO models (name, description) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                    name, description);
            return findModel(c, name).orElseThrow();
        });
    }

    public Optional<Model> findModel(String name) {
        return jdbc.withConnection("models", "find", c -> findModel(c, name));
    }

    public List<Model> listModels() {
        return jdbc.query("models", "list", "SELECT name, description, created_at FROM models ORDER BY name",
                ModelRegistryStore::mapModel);
    }

    /**
     * Registers an artifact as the model's next version (highest so far + 1). Registering an
     * artifact the model already has returns that version instead, so a retried registration task
     * does not mint a second number for the same bytes.
     */
    public ModelVersion registerVersion(String model, String artifactSha256, Long createdByTaskRun, String metadataJson) {
        String table = "model_versions";
        String op = "register";
        Validate.notNull(table, op, "model", model);
        Validate.sha256(table, op, artifactSha256);
        return jdbc.inTransaction(table, op, c -> {
            // Locking the model row serialises registrations per model, so two concurrent
            // registrations cannot both compute the same next version number.
            if (Jdbc.queryOne(c, "SELECT 1 FROM models WHERE name = ? FOR UPDATE", rs -> 1, model).isEmpty()) {
                throw DataAccessException.badInput(table, op, "model '" + model + "' does not exist; create it first");
            }
            Optional<ModelVersion> existing = Jdbc.queryOne(c, "SELECT " + VERSION_COLUMNS
                    + " FROM model_versions WHERE model = ? AND artifact_sha256 = ?",
                    ModelRegistryStore::mapVersion, model, artifactSha256);
            if (existing.isPresent()) {
                return existing.get();
            }
            try {
                ModelVersion created = Jdbc.queryOne(c, "INSERT INTO model_versions"
                        + " (model, version, artifact_sha256, created_by_task_run, metadata)"
                        + " SELECT ?, COALESCE(max(version), 0) + 1, ?, ?, COALESCE(?::jsonb, '{}'::jsonb)"
                        + " FROM model_versions WHERE model = ?"
                        + " RETURNING " + VERSION_COLUMNS, ModelRegistryStore::mapVersion,
                        model, artifactSha256, createdByTaskRun, metadataJson, model).orElseThrow();
                RegistryEvents.record(c, RegistryEvents.MODEL_VERSION_CREATED, "model:" + model, RegistryEvents.data(
                        "model", model, "version", created.version(), "artifact", artifactSha256,
                        "createdByTaskRun", createdByTaskRun));
                return created;
            } catch (SQLException e) {
                if (Jdbc.violates(e, "model_versions_artifact_sha256_fkey")) {
                    throw DataAccessException.badInput(table, op, "artifact " + artifactSha256
                            + " is not in artifacts; store the artifact before registering it as a version of '"
                            + model + "'", e);
                }
                if (Jdbc.violates(e, "model_versions_created_by_task_run_fkey")) {
                    throw DataAccessException.badInput(table, op, "createdByTaskRun " + createdByTaskRun
                            + " is not a task run", e);
                }
                throw e;
            }
        });
    }

    public Optional<ModelVersion> findVersion(String model, int version) {
        return jdbc.queryOne("model_versions", "find", "SELECT " + VERSION_COLUMNS
                + " FROM model_versions WHERE model = ? AND version = ?", ModelRegistryStore::mapVersion, model, version);
    }

    /** A model's versions, newest first. */
    public List<ModelVersion> listVersions(String model) {
        return jdbc.query("model_versions", "list", "SELECT " + VERSION_COLUMNS
                + " FROM model_versions WHERE model = ? ORDER BY version DESC", ModelRegistryStore::mapVersion, model);
    }

    /**
     * Points an alias at a version, creating the alias or moving it from the version it named; a move (or a new
     * alias) publishes {@link RegistryEvents#MODEL_ALIAS_MOVED}, pointing it where it points already does not.
     */
    public ModelAlias setAlias(String model, String alias, int version) {
        String table = "model_aliases";
        Validate.notNull(table, "set", "alias", alias);
        return jdbc.inTransaction(table, "set", c -> {
            try {
                Optional<Integer> previous = Jdbc.queryOne(c, "SELECT version FROM model_aliases"
                        + " WHERE model = ? AND alias = ? FOR UPDATE", rs -> rs.getInt(1), model, alias);
                ModelAlias set = Jdbc.queryOne(c, "INSERT INTO model_aliases (model, alias, version) VALUES (?, ?, ?)"
                        + " ON CONFLICT (model, alias) DO UPDATE SET version = EXCLUDED.version, updated_at = now()"
                        + " RETURNING model, alias, version, updated_at", ModelRegistryStore::mapAlias,
                        model, alias, version).orElseThrow();
                if (previous.isEmpty() || previous.get() != version) {
                    RegistryEvents.record(c, RegistryEvents.MODEL_ALIAS_MOVED, "model:" + model, RegistryEvents.data(
                            "model", model, "alias", alias, "version", version, "previousVersion", previous.orElse(null)));
                }
                return set;
            } catch (SQLException e) {
                if (Jdbc.violates(e, "model_aliases_version_fkey")) {
                    throw DataAccessException.badInput(table, "set", "model '" + model + "' has no version " + version
                            + "; register the version before pointing alias '" + alias + "' at it", e);
                }
                throw e;
            }
        });
    }

    public Optional<ModelAlias> getAlias(String model, String alias) {
        return jdbc.queryOne("model_aliases", "get", "SELECT model, alias, version, updated_at"
                + " FROM model_aliases WHERE model = ? AND alias = ?", ModelRegistryStore::mapAlias, model, alias);
    }

    /** Every alias of a model, by name. */
    public List<ModelAlias> listAliases(String model) {
        return jdbc.query("model_aliases", "list", "SELECT model, alias, version, updated_at"
                + " FROM model_aliases WHERE model = ? ORDER BY alias", ModelRegistryStore::mapAlias, model);
    }

    /** The version an alias names, as the inference gateway resolves "model@production". */
    public Optional<ModelVersion> resolveAlias(String model, String alias) {
        return jdbc.queryOne("model_aliases", "resolve", "SELECT v.model, v.version, v.artifact_sha256,"
                + " v.created_by_task_run, v.metadata::text AS metadata, v.created_at"
                + " FROM model_aliases a JOIN model_versions v ON v.model = a.model AND v.version = a.version"
                + " WHERE a.model = ? AND a.alias = ?", ModelRegistryStore::mapVersion, model, alias);
    }

    private static Optional<Model> findModel(Connection c, String name) throws SQLException {
        return Jdbc.queryOne(c, "SELECT name, description, created_at FROM models WHERE name = ?",
                ModelRegistryStore::mapModel, name);
    }

    private static Model mapModel(ResultSet rs) throws SQLException {
        return new Model(rs.getString("name"), rs.getString("description"), Jdbc.instant(rs, "created_at"));
    }

    private static ModelVersion mapVersion(ResultSet rs) throws SQLException {
        return new ModelVersion(rs.getString("model"), rs.getInt("version"), rs.getString("artifact_sha256"),
                Jdbc.nullableLong(rs, "created_by_task_run"), rs.getString("metadata"), Jdbc.instant(rs, "created_at"));
    }

    private static ModelAlias mapAlias(ResultSet rs) throws SQLException {
        return new ModelAlias(rs.getString("model"), rs.getString("alias"), rs.getInt("version"),
                Jdbc.instant(rs, "updated_at"));
    }
}
