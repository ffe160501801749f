package dev.anvil.activities.edge;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.Attestation;
import dev.anvil.db.AttestationStore;
import dev.anvil.modelkit.edge.EdgeBundle;
import dev.anvil.modelkit.edge.InvalidBundleInputException;
import dev.anvil.modelkit.tflite.InvalidTfliteModelException;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code package}: one downloadable zip for a device ({@link EdgeBundle}): the model in its target format, the labels
 * and a manifest carrying the model's signed provenance, published as {@value #BUNDLE_MEDIA_TYPE}. Everything is
 * checked before anything is published: a model in a format the target cannot take, a labels file that does not
 * match the model's classes, a model without signed provenance fail the task (not retried) and publish nothing.
 */
public final class PackageOperator implements Operator {
    public static final String BUNDLE_MEDIA_TYPE = "application/vnd.anvil.edge-bundle+zip";

    private final ArtifactIO artifacts;
    private final AttestationStore attestations;

    public PackageOperator(ArtifactIO artifacts, AttestationStore attestations) {
        this.artifacts = artifacts;
        this.attestations = attestations;
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.PACKAGE;
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        List<Path> temporary = new ArrayList<>();
        try {
            EdgeBundle.Target target = EdgeBundle.Target.of(String.valueOf(with.getOrDefault("target", "tflite")));
            Map<String, Object> preprocessing = preprocessing(with.get("preprocessing"));
            boolean allowUnsigned = Boolean.TRUE.equals(with.get("allow_unsigned"));
            ArtifactRef modelRef = artifacts.resolve(name(), with, "model");
            ArtifactRef labelsRef = with.get("labels") == null ? null : artifacts.resolve(name(), with, "labels");
            artifacts.used(context, modelRef, "model");
            if (labelsRef != null) {
                artifacts.used(context, labelsRef, "labels");
            }
            Path model = artifacts.fetch(modelRef, "." + target.id);
            temporary.add(model);
            Path labels = null;
            if (labelsRef != null) {
                labels = artifacts.fetch(labelsRef, ".txt");
                temporary.add(labels);
            }
            context.heartbeat(Map.of("phase", "bundle"));
            Path bundle = Files.createTempFile("anvil-bundle-", ".zip");
            temporary.add(bundle);
            EdgeBundle.Result result = EdgeBundle.write(new EdgeBundle.Request(target, model, modelRef.sha256(), labels,
                    preprocessing, provenance(modelRef.sha256()), allowUnsigned), bundle);
            ArtifactRef out = artifacts.publish(context, bundle, BUNDLE_MEDIA_TYPE, "bundle");
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("target", target.id);
            report.put("files", result.sha256s());
            report.put("size", Files.size(bundle));
            report.put("signed", !((List<?>) ((Map<?, ?>) result.manifest().get("provenance")).get("envelopes")).isEmpty());
            Map<String, Object> outputs = new LinkedHashMap<>();
            outputs.put("bundle", artifacts.asOutput(out));
            outputs.put("report", report);
            return outputs;
        } catch (InvalidBundleInputException | InvalidTfliteModelException e) {
            throw new InvalidTaskInputException(name() + ": " + e.getMessage(), e);
        } finally {
            for (Path p : temporary) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The model's DSSE envelopes as JSON values, oldest first. */
    private List<Object> provenance(String sha256) throws JsonProcessingException {
        List<Object> envelopes = new ArrayList<>();
        for (Attestation a : attestations.forArtifact(sha256)) {
            envelopes.add(artifacts.json().readValue(a.envelopeJson(), Object.class));
        }
        return envelopes;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> preprocessing(Object value) {
        if (value == null) {
            return Map.of();
        }
        if (value instanceof Map<?, ?> map) {
            return new LinkedHashMap<>((Map<String, Object>) map);
        }
        throw new InvalidTaskInputException(name() + ": with.preprocessing must be an object (e.g. {scale: 1.0,"
                + " layout: NCHW}), got " + value);
    }
}
