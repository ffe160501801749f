package dev.anvil.api.wiring;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.operators.Attestations;
import dev.anvil.activities.provenance.SigningKey;
import dev.anvil.api.config.AnvilConfig;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.AttestationStore;
import dev.anvil.db.LineageStore;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.TaskRunStore;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.jboss.logging.Logger;

/**
 * The provenance key, and the attestations the worker signs with it. The key comes from
 * ANVIL_PROVENANCE_KEY_FILE, else ANVIL_PROVENANCE_KEY, else (local mode) a file generated on first start.
 */
@ApplicationScoped
public class ProvenanceWiring {
    private static final Logger LOG = Logger.getLogger(ProvenanceWiring.class);

    @Produces
    @Singleton
    SigningKey provenanceKey(AnvilConfig config) {
        AnvilConfig.Provenance settings = config.provenance();
        try {
            if (settings.keyFile().isPresent()) {
                return logged(SigningKey.read(settings.keyFile().get()), "ANVIL_PROVENANCE_KEY_FILE");
            }
            if (settings.key().isPresent()) {
                return logged(SigningKey.fromPem(settings.key().get(), "ANVIL_PROVENANCE_KEY"), "ANVIL_PROVENANCE_KEY");
            }
            return logged(SigningKey.readOrGenerate(settings.generatedKeyFile()), settings.generatedKeyFile()
                    + " (local mode; set ANVIL_PROVENANCE_KEY_FILE where more than one process runs)");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the provenance key: " + e.getMessage(), e);
        }
    }

    @Produces
    @Singleton
    AttestationStore attestationStore(AgroalDataSource ds) {
        return new AttestationStore(ds);
    }

    @Produces
    @Singleton
    Attestations attestations(SigningKey key, AttestationStore store, TaskRunStore taskRuns, PipelineRunStore runs,
                              PipelineStore pipelines, ArtifactStore artifacts, LineageStore lineage, ObjectMapper json) {
        return new Attestations(key, store, taskRuns, runs, pipelines, artifacts, lineage, json);
    }

    private static SigningKey logged(SigningKey key, String source) {
        LOG.infof("provenance is signed with key %s from %s", key.keyId(), source);
        return key;
    }
}
