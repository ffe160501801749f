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
 * routes so the change takes effect in this process at once (other processes are notified).
 */
public final class EndpointManager {
    private final EndpointStore endpoints;
    private final ModelRegistryStore registry;
    private final Gateway gateway;

    public EndpointManager(EndpointStore endpoints, ModelRegistryStore registry, Gateway gateway) {
        this.endpoints = endpoints;
        this.registry = registry;
        this.gateway = gateway;
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
     * is), in {@code actor}'s name in the audit log.
     */
    public Endpoint put(String name, VersionChoice choice, Boolean publicInference, String actor) {
        if (!EndpointStore.NAME.matcher(name).matches()) {
            throw GatewayException.badRequest("name", "endpoint name '" + name
                    + "' must be 1-63 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit");
        }
        String model = choice.model() == null ? name : choice.model();
        int version = resolve(model, choice, true);
        return changed(() -> {
            Endpoint endpoint = endpoints.put(name, model, version, publicInference, TrafficChange.byHand(actor, null));
            // what serves is production: gates that compare with "production" compare with what actually serves
            if (registry.resolveAlias(model, "production").isEmpty()) {
                registry.setAlias(model, "production", version);
            }
            return endpoint;
        });
    }

    public Endpoint setCanary(String name, VersionChoice choice, int weight, String actor) {
        Endpoint endpoint = find(name);
        if (choice.model() != null && !choice.model().equals(endpoint.model())) {
            throw GatewayException.badRequest("model", "endpoint '" + name + "' serves model '" + endpoint.model()
                    + "'; a canary must be a version of the same model, not of '" + choice.model() + "'");
        }
        int version = resolve(endpoint.model(), choice, false);
        return changed(() -> endpoints.setCanary(name, version, weight, TrafficChange.byHand(actor, null)));
    }

    public Endpoint setWeight(String name, int weight, String actor) {
        find(name);
        return changed(() -> endpoints.setWeight(name, weight, TrafficChange.byHand(actor, null)));
    }

    public Endpoint removeCanary(String name, String actor) {
        find(name);
        return changed(() -> endpoints.removeCanary(name, TrafficChange.byHand(actor, null)));
    }

    /** Makes the canary (which must be {@code version}) the stable version. */
    public Endpoint promote(String name, int version, String actor) {
        find(name);
        return changed(() -> endpoints.promoteCanary(name, version, TrafficChange.byHand(actor, null)));
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

    private int resolve(String model, VersionChoice choice, boolean mayCreateModel) {
        int given = (choice.version() != null ? 1 : 0) + (choice.alias() != null ? 1 : 0)
                + (choice.artifact() != null ? 1 : 0);
        if (given > 1) {
            throw GatewayException.badRequest("version", "give one of version, alias or artifact, not " + given);
        }
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
