package dev.anvil.api.wiring;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.external.ExternalCompletion;
import dev.anvil.activities.external.TrainingServices;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.Attestations;
import dev.anvil.api.config.AnvilConfig;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.DatasetStore;
import dev.anvil.db.ExternalTaskStore;
import dev.anvil.db.LineageStore;
import dev.anvil.db.TaskRunStore;
import dev.anvil.storage.ObjectStore;
import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.LaunchMode;
import io.temporal.client.WorkflowClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.HashMap;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * The external operator's pieces as beans: its training services (from ANVIL_TRAINER_* / anvil.trainer.*), the
 * public URL services call back at, and the completion that /api/tasks/{token}/... drives.
 */
@ApplicationScoped
public class ExternalTraining {

    @Produces
    @Singleton
    ExternalTaskStore externalTasks(AgroalDataSource ds) {
        return new ExternalTaskStore(ds);
    }

    @Produces
    @Singleton
    TrainingServices trainingServices(AnvilConfig config) {
        Map<String, String> settings = new HashMap<>(System.getenv());
        config.trainer().forEach((name, trainer) -> {
            trainer.url().ifPresent(url -> settings.put("anvil.trainer." + name + ".url", url));
            trainer.auth().ifPresent(auth -> settings.put("anvil.trainer." + name + ".auth", auth));
        });
        return TrainingServices.from(settings);
    }

    @Produces
    @Singleton
    ExternalCompletion completion(ExternalTaskStore tasks, TaskRunStore taskRuns, ObjectStore objects,
                                  ArtifactStore artifacts, LineageStore lineage, ObjectMapper json,
                                  Attestations attestations, DatasetStore datasets, WorkflowClient client) {
        return new ExternalCompletion(tasks, taskRuns,
                new ArtifactIO(objects, artifacts, lineage, json, attestations, datasets), objects,
                client.newActivityCompletionClient());
    }

    /**
     * ANVIL_PUBLIC_URL, else this process on localhost at the port it actually listens on (a test's random port is
     * known only once the server started, so this is read per job).
     */
    public static String publicUrl(AnvilConfig config) {
        return config.publicUrl().filter(u -> !u.isBlank()).orElseGet(() -> {
            String property = LaunchMode.current() == LaunchMode.TEST ? "quarkus.http.test-port" : "quarkus.http.port";
            String port = System.getProperty(property,
                    ConfigProvider.getConfig().getOptionalValue(property, String.class).orElse("8080"));
            return "http://localhost:" + port;
        });
    }
}
