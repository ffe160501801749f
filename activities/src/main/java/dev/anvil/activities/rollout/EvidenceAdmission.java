package dev.anvil.activities.rollout;

import dev.anvil.db.Artifact;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.Endpoint;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.ModelVersion;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.ModelSignature;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.storage.ArtifactCorruptedException;
import dev.anvil.storage.ArtifactNotFoundException;
import dev.anvil.storage.ObjectStore;
import dev.anvil.storage.StoredObject;
import dev.anvil.workflows.rollout.CanaryRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Production needs evidence: a rollout that gathers some ({@link CanarySpec#noEvidence}), of a candidate
 * whose provenance chain holds in Anvil's records ({@link ProvenanceChain}), unless an admin broke glass;
 * and, glass broken or not, a candidate with the inputs and outputs the endpoint serves now that is not
 * already its stable version.
 */
public final class EvidenceAdmission implements RolloutAdmission {
    private final EndpointStore endpoints;
    private final ModelRegistryStore registry;
    private final ArtifactStore artifacts;
    private final ObjectStore objects;
    private final ProvenanceChain chain;
    private final Duration minInterval;

    /** @param minInterval the shortest analysis window that counts as evidence (ANVIL_ROLLOUT_MIN_INTERVAL) */
    public EvidenceAdmission(EndpointStore endpoints, ModelRegistryStore registry, ArtifactStore artifacts,
                             ObjectStore objects, ProvenanceChain chain, Duration minInterval) {
        this.endpoints = endpoints;
        this.registry = registry;
        this.artifacts = artifacts;
        this.objects = objects;
        this.chain = chain;
        this.minInterval = minInterval;
    }

    public Duration minInterval() {
        return minInterval;
    }

    @Override
    public void admit(CanaryRequest r, boolean breakGlass) {
        if (!breakGlass) {
            CanarySpec.noEvidence(r.steps(), r.minRequests(), r.intervalSeconds(), minInterval).ifPresent(e -> {
                throw new RolloutRefused(400, e.field(), e.getMessage());
            });
        }
        Endpoint endpoint = endpoints.find(r.endpoint()).orElseThrow(() -> new RolloutRefused(409, "endpoint",
                "no endpoint named '" + r.endpoint() + "'; create it with PUT /api/endpoints/" + r.endpoint()));
        Artifact candidate = artifacts.find(r.candidateArtifact()).orElseThrow(() -> new RolloutRefused(409, "model",
                "no artifact " + r.candidateArtifact() + "; upload the candidate or let a pipeline run build it"));
        if (!breakGlass) {
            CandidateEvidence evidence = chain.walk(candidate.sha256());
            if (!evidence.holds()) {
                throw new RolloutRefused(403, null, "candidate " + candidate.sha256() + " may not go to production: "
                        + evidence.problem() + " (an admin may break glass with a reason)");
            }
        }
        ModelVersion stable = registry.findVersion(endpoint.model(), endpoint.stableVersion()).orElseThrow(
                () -> new IllegalStateException("endpoint '" + r.endpoint() + "' serves version "
                        + endpoint.stableVersion() + " of '" + endpoint.model() + "', which the registry lacks"));
        if (stable.artifactSha256().equals(candidate.sha256())) {
            if (!endpoint.hasCanary()) {
                // refused before a rollout starts, so the caller hears it instead of a rollout that fails at once
                throw new RolloutRefused(409, "model", "the candidate " + candidate.sha256() + " is version "
                        + endpoint.stableVersion() + " of '" + endpoint.model() + "', which endpoint '" + r.endpoint()
                        + "' already serves as stable; roll out a model that differs from it (a pipeline run with the"
                        + " same inputs builds the same bytes)");
            }
            return; // beside a canary, the rollout's first activity decides
        }
        requireSameSignature(r.endpoint(), "version " + endpoint.stableVersion(), stable.artifactSha256(), candidate,
                "model", "roll it out on an endpoint of its own");
    }

    /**
     * A change by hand that puts one artifact on an endpoint's traffic (a new endpoint, another stable version, a
     * canary, more canary weight, a promotion): the artifact's evidence, as for a rollout but without a rollout's
     * shape, unless an admin broke glass; and, glass broken or not, the inputs and outputs the endpoint serves
     * now when {@code servingSha256} names them.
     *
     * @param servingSha256 the artifact the endpoint serves as stable, whose signature the candidate must have;
     *                      null for a new endpoint, or a change whose version was checked when it became the canary
     * @return the candidate's evidence: it holds, or glass was broken and it did not (to be audited)
     * @throws RolloutRefused 403 naming the missing link and how to break glass, 409 a different signature,
     *                        422 an artifact not in the store
     */
    public CandidateEvidence admitArtifact(String endpoint, String candidateSha256, String servingSha256,
                                           boolean breakGlass) {
        Artifact candidate = artifacts.find(candidateSha256).orElseThrow(() -> new RolloutRefused(422, "artifact",
                "artifact " + candidateSha256 + " is not in artifacts; upload the model (POST /api/artifacts) or let a"
                + " pipeline run build it"));
        CandidateEvidence evidence = chain.walk(candidate.sha256());
        if (!evidence.holds() && !breakGlass) {
            throw new RolloutRefused(403, null, "artifact " + candidate.sha256() + " may not serve endpoint '" + endpoint
                    + "': " + evidence.problem() + ". Let a pipeline run validate, gate and approve it (then roll it"
                    + " out with POST /api/rollouts), or, as an admin, break glass: add \"break_glass\": {\"reason\":"
                    + " \"why it may serve without that evidence\"} to the request body (audited as endpoint.break_glass)");
        }
        if (servingSha256 != null && !servingSha256.equals(candidate.sha256())) {
            requireSameSignature(endpoint, "its stable version", servingSha256, candidate, "artifact",
                    "serve it on an endpoint of its own");
        }
        return evidence;
    }

    private void requireSameSignature(String endpoint, String servedAs, String servingSha256, Artifact candidate,
                                      String field, String fix) {
        ModelSignature serving = signature(artifacts.find(servingSha256).orElseThrow(), "the stable version");
        ModelSignature offered = signature(candidate, "the candidate");
        if (!serving.equals(offered)) {
            throw new RolloutRefused(409, field, "the candidate's signature differs from what endpoint '"
                    + endpoint + "' serves (" + servedAs + "): the endpoint serves "
                    + serving + ", the candidate has " + offered + "; " + fix);
        }
    }

    private ModelSignature signature(Artifact artifact, String which) {
        Path file = null;
        try {
            file = Files.createTempFile("anvil-signature-", ".onnx");
            objects.copyTo(new StoredObject(artifact.uri(), artifact.sha256(), artifact.sizeBytes(), artifact.mediaType()),
                    file);
            return OnnxModel.readSignature(file);
        } catch (InvalidModelException e) {
            throw new RolloutRefused(409, "model", which + " (artifact " + artifact.sha256() + ") is not a model the"
                    + " gateway can serve: " + e.getMessage());
        } catch (ArtifactCorruptedException | ArtifactNotFoundException e) {
            throw new RolloutRefused(409, "model", which + " (artifact " + artifact.sha256() + ") cannot be read from"
                    + " the artifact store: " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + which + " (artifact " + artifact.sha256() + "): "
                    + e.getMessage(), e);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a temporary file; the system's cleaner gets it
                }
            }
        }
    }
}
