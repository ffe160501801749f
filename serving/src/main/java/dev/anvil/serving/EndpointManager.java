package dev.anvil.serving;

import dev.anvil.db.DataAccessException;
import dev.anvil.db.Endpoint;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.ModelVersion;
import dev.anvil.db.TrafficChange;
import java.util.function.Supplier;

/**
 * Changes to the gateway's endpoints made by hand (REST): each writes PostgreSQL through
 * {@link EndpointStore}'s audited traffic path in the caller's name, then refreshes the gateway's
 * routes so the change takes effect in this process at once (other processes are notified). A change
 * that puts a version on traffic it did not have passes the {@link TrafficAdmission} first, as a
 * rollout does; one that takes traffic away (less weight, no canary) needs nothing.
 */
public final class EndpointManager {
    private final EndpointStore endpoints;
    private final ModelRegistryStore registry;
    private final Gateway gateway;
    private final TrafficAdmission admission;

    public EndpointManager(EndpointStore endpoints, ModelRegistryStore registry, Gateway gateway,
                           TrafficAdmission admission) {
        this.endpoints = endpoints;
        this.registry = registry;
        this.gateway = gateway;
        this.admission = admission;
    }

    /**
     * Which version of a model to serve: an uploaded artifact (registered as a version of the model
     * first), an explicit version, an alias, or else the model's "production" alias or its newest
     * version.
     */
    public record VersionChoice(String model, Integer version, String alias, String artifact) {
    }

    /**
     * Serves the chosen version as stable and sets whether the endpoint is public (null: keep it as it
     * is), in {@code actor}'s name in the audit log. A version the endpoint does not serve already (a new
     * endpoint, another stable version) must pass the admission; {@code breakGlass} is an admin's reason
     * to serve it without evidence, or null.
     */
    public Endpoint put(String name, VersionChoice choice, Boolean publicInference, String actor, String breakGlass) {
        if (!EndpointStore.NAME.matcher(name).matches()) {
            throw GatewayException.badRequest("name", "endpoint name '" + name
                    + "' must be 1-63 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit");
        }
        requireOneChoice(choice);
        String model = choice.model() == null ? name : choice.model();
        Endpoint current = endpoints.find(name).orElse(null);
        String candidate = choice.artifact() != null ? choice.artifact() : artifactOf(model, resolve(model, choice, false));
        String serving = current == null ? null : artifactOf(current.model(), current.stableVersion());
        boolean sameServed = current != null && current.model().equals(model) && candidate.equals(serving);
        TrafficChange by = sameServed ? TrafficChange.byHand(actor, null)
                : admitted(name, candidate, serving, actor, breakGlass);
        int version = resolve(model, choice, true);
        return changed(() -> {
            Endpoint endpoint = endpoints.put(name, model, version, publicInference, by);
            // what serves is production: gates that compare with "production" compare with what actually serves
            if (registry.resolveAlias(model, "production").isEmpty()) {
                registry.setAlias(model, "production", version);
            }
            return endpoint;
        });
    }

    /** Sets the canary, which must pass the admission (evidence, and the stable version's signature). */
    public Endpoint setCanary(String name, VersionChoice choice, int weight, String actor, String breakGlass) {
        Endpoint endpoint = find(name);
        if (choice.model() != null && !choice.model().equals(endpoint.model())) {
            throw GatewayException.badRequest("model", "endpoint '" + name + "' serves model '" + endpoint.model()
                    + "'; a canary must be a version of the same model, not of '" + choice.model() + "'");
        }
        requireOneChoice(choice);
        String candidate = choice.artifact() != null ? choice.artifact()
                : artifactOf(endpoint.model(), resolve(endpoint.model(), choice, false));
        String serving = artifactOf(endpoint.model(), endpoint.stableVersion());
        boolean sameCanary = endpoint.hasCanary() && endpoint.canaryRollout() == null && weight <= endpoint.canaryWeight()
                && candidate.equals(artifactOf(endpoint.model(), endpoint.canaryVersion()));
        // the stable version as its own canary puts nothing new on traffic; the store refuses it, saying so
        TrafficChange by = sameCanary || candidate.equals(serving) ? TrafficChange.byHand(actor, null)
                : admitted(name, candidate, serving, actor, breakGlass);
        int version = resolve(endpoint.model(), choice, false);
        return changed(() -> endpoints.setCanary(name, version, weight, by));
    }

    /** Shifts traffic; more weight for a canary set by hand must pass the admission (its evidence). */
    public Endpoint setWeight(String name, int weight, String actor, String breakGlass) {
        Endpoint endpoint = find(name);
        // a rollout's canary is refused by the store, naming the rollout to steer instead
        boolean more = endpoint.hasCanary() && endpoint.canaryRollout() == null && weight > endpoint.canaryWeight();
        TrafficChange by = !more ? TrafficChange.byHand(actor, null)
                : admitted(name, artifactOf(endpoint.model(), endpoint.canaryVersion()), null, actor, breakGlass);
        Integer admittedCanary = more ? endpoint.canaryVersion() : null;
        return changed(() -> endpoints.setWeight(name, admittedCanary, weight, by));
    }

    /** Sends all traffic back to the stable version: nothing new serves, so nothing to admit. */
    public Endpoint removeCanary(String name, String actor) {
        find(name);
        return changed(() -> endpoints.removeCanary(name, TrafficChange.byHand(actor, null)));
    }

    /** Makes the canary (which must be {@code version}) the stable version; a canary set by hand must pass the admission. */
    public Endpoint promote(String name, int version, String actor, String breakGlass) {
        Endpoint endpoint = find(name);
        boolean byHand = endpoint.canaryRollout() == null && Integer.valueOf(version).equals(endpoint.canaryVersion());
        TrafficChange by = !byHand ? TrafficChange.byHand(actor, null)
                : admitted(name, artifactOf(endpoint.model(), version), null, actor, breakGlass);
        return changed(() -> endpoints.promoteCanary(name, version, by));
    }

    /** Asks the admission; the change names the broken glass when the reason waived missing evidence. */
    private TrafficChange admitted(String name, String candidate, String serving, String actor, String breakGlass) {
        boolean glassBroken = admission.admit(name, candidate, serving, breakGlass);
        return glassBroken ? TrafficChange.breakingGlass(actor, breakGlass) : TrafficChange.byHand(actor, null);
    }

    private String artifactOf(String model, int version) {
        return registry.findVersion(model, version).map(ModelVersion::artifactSha256).orElseThrow(() ->
                GatewayException.notFound("version", "model '" + model + "' has no version " + version));
    }

    public boolean delete(String name) {
        boolean deleted = endpoints.delete(name);
        gateway.refresh();
        return deleted;
    }

    public Endpoint find(String name) {
        return endpoints.find(name).orElseThrow(() -> GatewayException.notFound("name", "no endpoint named '" + name
                + "'; create it with PUT /api/endpoints/" + name));
    }

    private static void requireOneChoice(VersionChoice choice) {
        int given = (choice.version() != null ? 1 : 0) + (choice.alias() != null ? 1 : 0)
                + (choice.artifact() != null ? 1 : 0);
        if (given > 1) {
            throw GatewayException.badRequest("version", "give one of version, alias or artifact, not " + given);
        }
    }

    private int resolve(String model, VersionChoice choice, boolean mayCreateModel) {
        requireOneChoice(choice);
        try {
            if (choice.artifact() != null) {
                if (mayCreateModel) {
                    registry.createModel(model, null);
                }
                return registry.registerVersion(model, choice.artifact(), null, null).version();
            }
            if (registry.findModel(model).isEmpty()) {
                throw GatewayException.notFound("model", "no model named '" + model + "' in the registry;"
                        + " give \"artifact\" (the sha256 of an uploaded ONNX model) to register it");
            }
            if (choice.version() != null) {
                return registry.findVersion(model, choice.version()).map(ModelVersion::version)
                        .orElseThrow(() -> GatewayException.notFound("version", "model '" + model + "' has no version "
                                + choice.version() + "; its versions: " + versions(model)));
            }
            if (choice.alias() != null) {
                return registry.resolveAlias(model, choice.alias()).map(ModelVersion::version)
                        .orElseThrow(() -> GatewayException.notFound("alias", "model '" + model + "' has no alias '"
                                + choice.alias() + "'"));
            }
            return registry.resolveAlias(model, "production").or(() -> registry.listVersions(model).stream().findFirst())
                    .map(ModelVersion::version)
                    .orElseThrow(() -> GatewayException.notFound("model", "model '" + model + "' has no versions yet"));
        } catch (DataAccessException e) {
            throw translate(e);
        }
    }

    private Endpoint changed(Supplier<Endpoint> change) {
        Endpoint endpoint;
        try {
            endpoint = change.get();
        } catch (DataAccessException e) {
            throw translate(e);
        }
        gateway.refresh();
        return endpoint;
    }

    private java.util.List<Integer> versions(String model) {
        return registry.listVersions(model).stream().map(ModelVersion::version).sorted().toList();
    }

    private static RuntimeException translate(DataAccessException e) {
        if (!e.isBadInput()) {
            return e;
        }
        // the store's message starts with "table operation: "; the caller needs only the reason
        String message = e.getMessage();
        int colon = message.indexOf(": ");
        return new GatewayException(422, null, colon < 0 ? message : message.substring(colon + 2), e);
    }
}
