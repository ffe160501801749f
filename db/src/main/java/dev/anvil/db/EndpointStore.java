package dev.anvil.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/** The gateway's endpoints: written by the REST API and the rollout workflow, read by the router. */
public final class EndpointStore {

    /** Endpoint names appear in URLs (/v2/models/{name}) and metric labels, so they stay plain. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");

    private static final String TABLE = "endpoints";
    private static final String COLUMNS = "name, model, stable_version, canary_version, canary_weight, public_inference, updated_at";

    private final Jdbc jdbc;

    public EndpointStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Creates the endpoint or points it at a new stable version. A canary survives only while it
     * is still a different version of the same model; otherwise it is removed with its weight.
     * A new endpoint is not public; an existing one keeps what it was.
     */
    public Endpoint put(String name, String model, int stableVersion) {
        return put(name, model, stableVersion, null);
    }

    /**
     * As {@link #put(String, String, int)}, and sets whether anyone may call inference on it
     * ({@code publicInference}); null keeps an existing endpoint's setting and makes a new one not public.
     */
    public Endpoint put(String name, String model, int stableVersion, Boolean publicInference) {
        checkName("put", name);
        Validate.notNull(TABLE, "put", "model", model);
        return jdbc.inTransaction(TABLE, "put", c -> {
            try {
                Jdbc.update(c, "INSERT INTO endpoints (name, model, stable_version, public_inference)"
                        + " VALUES (?, ?, ?, COALESCE(?::boolean, false))"
                        + " ON CONFLICT (name) DO UPDATE SET model = EXCLUDED.model,"
                        + " public_inference = COALESCE(?::boolean, endpoints.public_inference),"
                        + " stable_version = EXCLUDED.stable_version,"
                        + " canary_version = CASE WHEN endpoints.model = EXCLUDED.model"
                        + "   AND endpoints.canary_version <> EXCLUDED.stable_version THEN endpoints.canary_version END,"
                        + " canary_weight = CASE WHEN endpoints.model = EXCLUDED.model"
                        + "   AND endpoints.canary_version <> EXCLUDED.stable_version THEN endpoints.canary_weight ELSE 0 END,"
                        + " updated_at = now()", name, model, stableVersion, publicInference, publicInference);
            } catch (SQLException e) {
                if (Jdbc.violates(e, "endpoints_stable_version_fkey")) {
                    throw DataAccessException.badInput(TABLE, "put", "model '" + model + "' has no version "
                            + stableVersion + "; register it before serving it from endpoint '" + name + "'", e);
                }
                throw e;
            }
            return find(c, name).orElseThrow();
        });
    }

    /** Sets (or replaces) the endpoint's canary version and its weight (0..100). */
    public Endpoint setCanary(String name, int canaryVersion, int weight) {
        checkWeight("set canary", weight);
        return jdbc.inTransaction(TABLE, "set canary", c -> {
            Endpoint current = lock(c, "set canary", name);
            if (current.stableVersion() == canaryVersion) {
                throw DataAccessException.badInput(TABLE, "set canary", "version " + canaryVersion
                        + " is already the stable version of endpoint '" + name + "'; a canary must be another version");
            }
            try {
                Jdbc.update(c, "UPDATE endpoints SET canary_version = ?, canary_weight = ?, updated_at = now()"
                        + " WHERE name = ?", canaryVersion, weight, name);
            } catch (SQLException e) {
                if (Jdbc.violates(e, "endpoints_canary_version_fkey")) {
                    throw DataAccessException.badInput(TABLE, "set canary", "model '" + current.model()
                            + "' has no version " + canaryVersion + " to use as canary of endpoint '" + name + "'", e);
                }
                throw e;
            }
            return find(c, name).orElseThrow();
        });
    }

    /** Changes the share of traffic the canary gets; refused when the endpoint has no canary. */
    public Endpoint setWeight(String name, int weight) {
        checkWeight("set weight", weight);
        return jdbc.inTransaction(TABLE, "set weight", c -> {
            Endpoint current = lock(c, "set weight", name);
            if (!current.hasCanary()) {
                throw DataAccessException.badInput(TABLE, "set weight", "endpoint '" + name
                        + "' has no canary; set a canary version before giving it traffic");
            }
            Jdbc.update(c, "UPDATE endpoints SET canary_weight = ?, updated_at = now() WHERE name = ?", weight, name);
            return find(c, name).orElseThrow();
        });
    }

    /** Removes the canary: all traffic goes to the stable version again. */
    public Endpoint removeCanary(String name) {
        return jdbc.inTransaction(TABLE, "remove canary", c -> {
            lock(c, "remove canary", name);
            Jdbc.update(c, "UPDATE endpoints SET canary_version = NULL, canary_weight = 0, updated_at = now()"
                    + " WHERE name = ?", name);
            return find(c, name).orElseThrow();
        });
    }

    /** The canary becomes the stable version; the old stable version leaves the endpoint. */
    public Endpoint promoteCanary(String name, int expectedCanary) {
        return jdbc.inTransaction(TABLE, "promote canary", c -> {
            Endpoint current = lock(c, "promote canary", name);
            if (current.stableVersion() == expectedCanary && !current.hasCanary()) {
                return current; // promoted already: a retried promotion
            }
            if (!Integer.valueOf(expectedCanary).equals(current.canaryVersion())) {
                throw DataAccessException.badInput(TABLE, "promote canary", "endpoint '" + name + "' has canary "
                        + current.canaryVersion() + ", not version " + expectedCanary + "; nothing was promoted");
            }
            Jdbc.update(c, "UPDATE endpoints SET stable_version = canary_version, canary_version = NULL,"
                    + " canary_weight = 0, updated_at = now() WHERE name = ?", name);
            return find(c, name).orElseThrow();
        });
    }

    public boolean delete(String name) {
        return jdbc.withConnection(TABLE, "delete", c -> Jdbc.update(c, "DELETE FROM endpoints WHERE name = ?", name) > 0);
    }

    public Optional<Endpoint> find(String name) {
        return jdbc.withConnection(TABLE, "find", c -> find(c, name));
    }

    public List<Endpoint> list() {
        return jdbc.query(TABLE, "list", "SELECT " + COLUMNS + " FROM endpoints ORDER BY name", EndpointStore::map);
    }

    private static void checkName(String op, String name) {
        Validate.notNull(TABLE, op, "name", name);
        if (!NAME.matcher(name).matches()) {
            throw DataAccessException.badInput(TABLE, op, "endpoint name '" + name
                    + "' must be 1-63 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit");
        }
    }

    private static void checkWeight(String op, int weight) {
        if (weight < 0 || weight > 100) {
            throw DataAccessException.badInput(TABLE, op, "weight " + weight + " is outside 0..100");
        }
    }

    private static Endpoint lock(Connection c, String op, String name) throws SQLException {
        return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM endpoints WHERE name = ? FOR UPDATE", EndpointStore::map, name)
                .orElseThrow(() -> DataAccessException.badInput(TABLE, op, "no endpoint named '" + name + "'"));
    }

    private static Optional<Endpoint> find(Connection c, String name) throws SQLException {
        return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM endpoints WHERE name = ?", EndpointStore::map, name);
    }

    private static Endpoint map(ResultSet rs) throws SQLException {
        return new Endpoint(rs.getString("name"), rs.getString("model"), rs.getInt("stable_version"),
                Jdbc.nullableInt(rs, "canary_version"), rs.getInt("canary_weight"), rs.getBoolean("public_inference"),
                Jdbc.instant(rs, "updated_at"));
    }
}
