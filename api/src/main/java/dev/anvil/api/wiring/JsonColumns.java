package dev.anvil.api.wiring;

import com.fasterxml.jackson.annotation.JsonRawValue;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.AuditEntry;
import dev.anvil.db.DriftReport;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.Rollout;
import dev.anvil.db.TaskRun;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The stores keep JSON columns as JSON text (jsonb read as {@code ::text}); the REST API writes them as JSON
 * values, not as strings holding JSON, so clients read {@code tasks[0].metricsJson.accuracy} without parsing
 * twice. The text comes from PostgreSQL's jsonb, so it is valid JSON; a null column stays null. The field
 * names are unchanged (see CHANGELOG.md: the values' type changed, a breaking change).
 */
@Singleton
public class JsonColumns implements ObjectMapperCustomizer {

    /** Each stored type with a JSON column, and the mix-in that writes that column as a JSON value. */
    private static final Map<Class<?>, Class<?>> MIXINS = Map.of(
            TaskRun.class, TaskRunJson.class,
            PipelineRun.class, PipelineRunJson.class,
            // the runs list's items carry a run's fields unwrapped (GET /api/runs): the document describes them alike
            dev.anvil.api.runs.RunResource.RunListItem.class, PipelineRunJson.class,
            AuditEntry.class, AuditEntryJson.class,
            Rollout.class, RolloutJson.class,
            DriftReport.class, DriftReportJson.class);

    @Override
    public void customize(ObjectMapper mapper) {
        MIXINS.forEach(mapper::addMixIn);
    }

    /**
     * The fields the REST API writes as JSON values, by the type that holds them (sorted by the types' and the
     * fields' names), so the OpenAPI document describes exactly these as objects (see ApiDocumentFilter).
     */
    public static Map<Class<?>, List<String>> fields() {
        Map<Class<?>, List<String>> fields = new TreeMap<>(Comparator.comparing(Class::getSimpleName));
        MIXINS.forEach((type, mixin) -> fields.put(type, Arrays.stream(mixin.getDeclaredMethods())
                .filter(m -> m.isAnnotationPresent(JsonRawValue.class)).map(Method::getName).sorted().toList()));
        return fields;
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

    interface DriftReportJson {
        @JsonRawValue
        String reportJson();
    }

    interface RolloutJson {
        @JsonRawValue
        String analysisJson();
    }
}
