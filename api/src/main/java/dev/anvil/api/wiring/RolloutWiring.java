package dev.anvil.api.wiring;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.provenance.SigningKey;
import dev.anvil.activities.rollout.EvidenceAdmission;
import dev.anvil.activities.rollout.ProvenanceChain;
import dev.anvil.api.config.AnvilConfig;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.AttestationStore;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.LineageStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.TaskRunStore;
import dev.anvil.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The provenance chain walk and the rollout admission built on it: one instance, asked by the REST
 * endpoint, the canary operator and the rollout's first activity alike.
 */
@ApplicationScoped
public class RolloutWiring {
    @Produces
    @Singleton
    ProvenanceChain provenanceChain(AttestationStore attestations, TaskRunStore taskRuns, LineageStore lineage,
                                    ApprovalStore approvals, SigningKey key, ObjectMapper json) {
        return new ProvenanceChain(attestations, taskRuns, lineage, approvals, key, json);
    }

    @Produces
    @Singleton
    EvidenceAdmission rolloutAdmission(EndpointStore endpoints, ModelRegistryStore registry, ArtifactStore artifacts,
                                       ObjectStore objects, ProvenanceChain chain, AnvilConfig config) {
        return new EvidenceAdmission(endpoints, registry, artifacts, objects, chain, config.rollout().minInterval());
    }
}
