package dev.anvil.api.wiring;

import com.fasterxml.jackson.annotation.JsonRawValue;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.AuditEntry;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.Rollout;
import dev.anvil.db.TaskRun;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;

/**
 * The stores keep JSON columns as JSON text (jsonb read as {@code ::text}); the REST API writes them as JSON
 * values, not as strings holding JSON, so clients read {@code tasks[0].metricsJson.accuracy} without parsing
 * twice. The text comes from PostgreSQL's jsonb, so it is valid JSON; a null column stays null. The field
 * names are unchanged (see CHANGELOG.md: the values' type changed, a breaking change).
 */
@Singleton
public class JsonColumns implements ObjectMapperCustomizer {

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.addMixIn(TaskRun.class, TaskRunJson.class);
        mapper.addMixIn(PipelineRun.class, PipelineRunJson.class);
        mapper.addMixIn(AuditEntry.class, AuditEntryJson.class);
        mapper.addMixIn(Rollout.class, RolloutJson.class);
    }

    interface TaskRunJson {
        @JsonRawValue
        String parametersJson();

        @JsonRawValue
        String metricsJson();
    }

    interface PipelineRunJson {
        @JsonRawValue
        String paramsJson();
    }

    interface AuditEntryJson {
        @JsonRawValue
        String detailsJson();
    }

    interface RolloutJson {
        @JsonRawValue
        String analysisJson();
    }
}
