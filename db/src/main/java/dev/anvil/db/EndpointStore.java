package dev.anvil.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The gateway's endpoints: written by the REST API and the rollout workflow, read by the router. Every
 * change to what an endpoint serves (stable version, canary, weight, promotion) goes through the methods
 * taking a {@link TrafficChange}, which write the change and its audit row in one transaction.
 */
public final class EndpointStore {

    /** Endpoint names appear in URLs (/v2/models/{name}) and metric labels, so they stay plain. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");

    private static final String TABLE = "endpoints";
    private static final String COLUMNS = "name, model, stable_version, canary_version, canary_weight, public_inference,"
            + " updated_at, canary_rollout";
    /** In an upsert: the canary stays only while it is another version of the same model. */
    private static final String CANARY_SURVIVES =
            "endpoints.model = EXCLUDED.model AND endpoints.canary_version <> EXCLUDED.stable_version";

    private final Jdbc jdbc;

    public EndpointStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Creates the endpoint or points it at a new stable version. A canary survives only while it
     * is still a different version of the same model; otherwise it is removed with its weight.
     * Sets whether anyone may call inference on it ({@code publicInference}); null keeps an existing
     * endpoint's setting and makes a new one not public. Audited as endpoint.created or
     * endpoint.updated when anything changed.
     */
    public Endpoint put(String name, String model, int stableVersion, Boolean publicInference, TrafficChange by) {
        checkName("put", name);
        Validate.notNull(TABLE, "put", "model", model);
        return change("put", by, c -> {
            Optional<Endpoint> before = lockIfPresent(c, name);
            try {
                Jdbc.update(c, "INSERT INTO endpoints (name, model, stable_version, public_inference)"
                        + " VALUES (?, ?, ?, COALESCE(?::boolean, false))"
                        + " ON CONFLICT (name) DO UPDATE SET model = EXCLUDED.model,"
                        + " public_inference = COALESCE(?::boolean, endpoints.public_inference),"
                        + " stable_version = EXCLUDED.stable_version,"
                        + " canary_version = CASE WHEN " + CANARY_SURVIVES + " THEN endpoints.canary_version END,"
                        + " canary_weight = CASE WHEN " + CANARY_SURVIVES + " THEN endpoints.canary_weight ELSE 0 END,"
                        + " canary_rollout = CASE WHEN " + CANARY_SURVIVES + " THEN endpoints.canary_rollout END,"
                        + " updated_at = now()", name, model, stableVersion, publicInference, publicInference);
            } catch (SQLException e) {
                if (Jdbc.violates(e, "endpoints_stable_version_fkey")) {
                    throw DataAccessException.badInput(TABLE, "put", "model '" + model + "' has no version "
                            + stableVersion + "; register it before serving it from endpoint '" + name + "'", e);
                }
                throw e;
            }
            return new Change(before.isPresent() ? "endpoint.updated" : "endpoint.created", before.orElse(null),
                    find(c, name).orElseThrow());
        });
    }

    /**
     * Sets (or replaces) the endpoint's canary version and its weight (0..100). A rollout may set it
     * over no canary or its own (starting again from this weight); a canary another rollout manages
     * is refused, naming that rollout, and so is a rollout's over a canary set by hand.
     */
    public Endpoint setCanary(String name, int canaryVersion, int weight, TrafficChange by) {
        checkWeight("set canary", weight);
        return change("set canary", by, c -> {
            Endpoint current = lock(c, "set canary", name);
            if (current.hasCanary() && !Objects.equals(current.canaryRollout(), by.rollout())) {
                if (current.canaryRollout() != null) {
                    throw notOwner("set canary", current, by);
                }
                if (by.rollout() != null) {
                    throw DataAccessException.badInput(TABLE, "set canary", "endpoint '" + name + "' has a canary set by"
                            + " hand (version " + current.canaryVersion() + " at " + current.canaryWeight() + " %);"
                            + " remove it (DELETE /api/endpoints/" + name + "/canary) before rollout '" + by.rollout()
                            + "' sets its own");
                }
            }
            if (current.stableVersion() == canaryVersion) {
                throw DataAccessException.badInput(TABLE, "set canary", "version " + canaryVersion
                        + " is already the stable version of endpoint '" + name + "'; a canary must be another version");
            }
            try {
                Jdbc.update(c, "UPDATE endpoints SET canary_version = ?, canary_weight = ?, canary_rollout = ?,"
                        + " updated_at = now() WHERE name = ?", canaryVersion, weight, by.rollout(), name);
            } catch (SQLException e) {
                if (Jdbc.violates(e, "endpoints_canary_version_fkey")) {
                    throw DataAccessException.badInput(TABLE, "set canary", "model '" + current.model()
                            + "' has no version " + canaryVersion + " to use as canary of endpoint '" + name + "'", e);
                }
                throw e;
            }
            return new Change("endpoint.canary.set", current, find(c, name).orElseThrow());
        });
    }

    /**
     * Changes the share of traffic the canary gets; refused when the endpoint has no canary, or when
     * the canary is another rollout's (or, for a rollout, not its own).
     */
    public Endpoint setWeight(String name, int weight, TrafficChange by) {
        return setWeight(name, null, weight, by);
    }

    /**
     * As {@link #setWeight(String, int, TrafficChange)}, refused when the canary is no longer
     * {@code expectedCanary} (null: any): a change by hand admitted for one version never gives traffic to
     * another that replaced it meanwhile.
     */
    public Endpoint setWeight(String name, Integer expectedCanary, int weight, TrafficChange by) {
        checkWeight("set weight", weight);
        return change("set weight", by, c -> {
            Endpoint current = lock(c, "set weight", name);
            if (!current.hasCanary() && by.rollout() == null) {
                throw DataAccessException.badInput(TABLE, "set weight", "endpoint '" + name
                        + "' has no canary; set a canary version before giving it traffic");
            }
            if (expectedCanary != null && !expectedCanary.equals(current.canaryVersion())) {
                throw DataAccessException.badInput(TABLE, "set weight", "endpoint '" + name + "' has canary "
                        + current.canaryVersion() + ", not version " + expectedCanary + " (it changed meanwhile);"
                        + " nothing was changed");
            }
            if (!Objects.equals(current.canaryRollout(), by.rollout())) {
                throw notOwner("set weight", current, by);
            }
            Jdbc.update(c, "UPDATE endpoints SET canary_weight = ?, updated_at = now() WHERE name = ?", weight, name);
            return new Change("endpoint.canary.weight_changed", current, find(c, name).orElseThrow());
        });
    }

    /**
     * Removes the canary: all traffic goes to the stable version again. By hand it removes any canary
     * (sending traffic back to stable is always safe; a rollout whose canary was removed fails at its
     * next step). For a rollout it removes only the canary that rollout manages and leaves any other.
     */
    public Endpoint removeCanary(String name, TrafficChange by) {
        return change("remove canary", by, c -> {
            Endpoint current = lock(c, "remove canary", name);
            if (by.rollout() != null && !by.rollout().equals(current.canaryRollout())) {
                return new Change("endpoint.canary.removed", current, current);
            }
            Jdbc.update(c, "UPDATE endpoints SET canary_version = NULL, canary_weight = 0, canary_rollout = NULL,"
                    + " updated_at = now() WHERE name = ?", name);
            return new Change("endpoint.canary.removed", current, find(c, name).orElseThrow());
        });
    }

    /**
     * The canary becomes the stable version; the old stable version leaves the endpoint. A canary a
     * rollout manages is promoted only by that rollout.
     */
    public Endpoint promoteCanary(String name, int expectedCanary, TrafficChange by) {
        return change("promote canary", by, c -> {
            Endpoint current = lock(c, "promote canary", name);
            if (current.stableVersion() == expectedCanary && !current.hasCanary()) {
                return new Change("endpoint.canary.promoted", current, current); // a retried promotion
            }
            if (!Integer.valueOf(expectedCanary).equals(current.canaryVersion())) {
                throw DataAccessException.badInput(TABLE, "promote canary", "endpoint '" + name + "' has canary "
                        + current.canaryVersion() + ", not version " + expectedCanary + "; nothing was promoted");
            }
            if (!Objects.equals(current.canaryRollout(), by.rollout())) {
                throw notOwner("promote canary", current, by);
            }
            Jdbc.update(c, "UPDATE endpoints SET stable_version = canary_version, canary_version = NULL,"
                    + " canary_weight = 0, canary_rollout = NULL, updated_at = now() WHERE name = ?", name);
            return new Change("endpoint.canary.promoted", current, find(c, name).orElseThrow());
        });
    }

    /** A change's audit action, the endpoint before it (null when it was created) and after it. */
    private record Change(String action, Endpoint before, Endpoint after) {
    }

    @FunctionalInterface
    private interface ChangeWork {
        Change run(Connection c) throws SQLException;
    }

    /**
     * The one path by which an endpoint's traffic changes: the change and its audit row commit in
     * one transaction, so no change goes unrecorded and no record describes a change that did not
     * happen. A change that leaves the endpoint as it was (a retried call) writes no row.
     */
    private Endpoint change(String op, TrafficChange by, ChangeWork work) {
        if (by == null) {
            throw DataAccessException.badInput(TABLE, op, "say who changes the traffic and why (a TrafficChange)");
        }
        return jdbc.inTransaction(TABLE, op, c -> {
            Change change = work.run(c);
            if (!sameTraffic(change.before(), change.after())) {
                AuditLogStore.append(c, by.actor(), change.action(), "endpoint:" + change.after().name(),
                        details(c, change, by), null);
                if (by.breakGlass()) {
                    AuditLogStore.append(c, by.actor(), "endpoint.break_glass", "endpoint:" + change.after().name(),
                            breakGlassDetails(c, change, by), null);
                }
            }
            return change.after();
        });
    }

    /**
     * The break-glass record: why, which change, and the version it put on traffic with its artifact (the
     * new stable version when the stable version changed, else the canary).
     */
    private static String breakGlassDetails(Connection c, Change change, TrafficChange by) throws SQLException {
        Endpoint before = change.before();
        Endpoint after = change.after();
        int version = before == null || before.stableVersion() != after.stableVersion() || !after.hasCanary()
                ? after.stableVersion() : after.canaryVersion();
        return Jdbc.queryOne(c, "SELECT jsonb_strip_nulls(jsonb_build_object('reason', ?::text, 'change', ?::text,"
                + " 'model', ?::text, 'version', ?::int, 'artifact', (SELECT artifact_sha256 FROM model_versions"
                + " WHERE model = ? AND version = ?), 'weight', ?::int))::text", rs -> rs.getString(1),
                by.reason(), change.action(), after.model(), version, after.model(), version,
                version == after.stableVersion() ? null : after.canaryWeight()).orElseThrow();
    }

    private static boolean sameTraffic(Endpoint a, Endpoint b) {
        return a != null && a.model().equals(b.model()) && a.stableVersion() == b.stableVersion()
                && Objects.equals(a.canaryVersion(), b.canaryVersion()) && a.canaryWeight() == b.canaryWeight()
                && Objects.equals(a.canaryRollout(), b.canaryRollout()) && a.publicInference() == b.publicInference();
    }

    /** The audit row's details, as PostgreSQL writes JSON (nulls left out). */
    private static String details(Connection c, Change change, TrafficChange by) throws SQLException {
        String traffic = "jsonb_build_object('model', ?::text, 'stable', ?::int, 'canary', ?::int, 'weight', ?::int,"
                + " 'canary_rollout', ?::text, 'public', ?::boolean)";
        Endpoint before = change.before() == null ? change.after() : change.before();
        Endpoint after = change.after();
        return Jdbc.queryOne(c, "SELECT jsonb_strip_nulls(jsonb_build_object('reason', ?::text, 'rollout', ?::text,"
                + " 'before', CASE WHEN ?::boolean THEN " + traffic + " END, 'after', " + traffic + "))::text",
                rs -> rs.getString(1), by.reason(), by.rollout(), change.before() != null,
                before.model(), before.stableVersion(), before.canaryVersion(), before.canaryWeight(),
                before.canaryRollout(), before.publicInference(),
                after.model(), after.stableVersion(), after.canaryVersion(), after.canaryWeight(),
                after.canaryRollout(), after.publicInference()).orElseThrow();
    }

    private static DataAccessException notOwner(String op, Endpoint current, TrafficChange by) {
        String name = current.name();
        if (by.rollout() == null) {
            return DataAccessException.badInput(TABLE, op, "the canary of endpoint '" + name + "' is managed by rollout '"
                    + current.canaryRollout() + "'; steer it with POST /api/rollouts/" + current.canaryRollout()
                    + "/{pause,resume,promote,abort}");
        }
        String holder = !current.hasCanary() ? "it has no canary"
                : current.canaryRollout() == null ? "its canary (version " + current.canaryVersion() + ") was set by hand"
                : "its canary (version " + current.canaryVersion() + " at " + current.canaryWeight()
                        + " %) is managed by rollout '" + current.canaryRollout() + "'";
        return DataAccessException.badInput(TABLE, op, "rollout '" + by.rollout() + "' does not manage the canary of"
                + " endpoint '" + name + "': " + holder);
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

    private static Optional<Endpoint> lockIfPresent(Connection c, String name) throws SQLException {
        return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM endpoints WHERE name = ? FOR UPDATE", EndpointStore::map, name);
    }

    private static Optional<Endpoint> find(Connection c, String name) throws SQLException {
        return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM endpoints WHERE name = ?", EndpointStore::map, name);
    }

    private static Endpoint map(ResultSet rs) throws SQLException {
        return new Endpoint(rs.getString("name"), rs.getString("model"), rs.getInt("stable_version"),
                Jdbc.nullableInt(rs, "canary_version"), rs.getInt("canary_weight"), rs.getBoolean("public_inference"),
                Jdbc.instant(rs, "updated_at"), rs.getString("canary_rollout"));
    }
}
