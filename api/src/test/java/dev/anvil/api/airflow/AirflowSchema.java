package dev.anvil.api.airflow;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.restassured.response.ValidatableResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The JSON Schema written from shared/compat/airflow-v2-facts.md ({@code airflow/airflow-v2.schema.json}):
 * an answer is checked against one of its {@code $defs}: every required key present, each of its JSON type,
 * enums exact.
 */
final class AirflowSchema {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    private static final JsonNode DOCUMENT = read();
    private static final Map<String, Schema> COMPILED = new ConcurrentHashMap<>();

    private AirflowSchema() {
    }

    private static JsonNode read() {
        try (InputStream in = AirflowSchema.class.getResourceAsStream("/airflow/airflow-v2.schema.json")) {
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The problems of {@code body} against {@code $defs/definition}; empty when it conforms. */
    static List<String> problems(String definition, String body) {
        assertThat(DOCUMENT.path("$defs").has(definition)).as("the schema defines " + definition).isTrue();
        Schema schema = COMPILED.computeIfAbsent(definition, d -> {
            ObjectNode wrapper = JSON.createObjectNode();
            wrapper.put("$schema", "https://json-schema.org/draft/2020-12/schema");
            wrapper.set("$defs", DOCUMENT.path("$defs"));
            wrapper.put("$ref", "#/$defs/" + d);
            return REGISTRY.getSchema(wrapper);
        });
        return schema.validate(JSON.readTree(body)).stream().map(Error::toString).toList();
    }

    static void assertConforms(String definition, String body) {
        assertThat(problems(definition, body)).as(definition + ": " + body).isEmpty();
    }

    /** Checks the answer against the definition and hands it on for more checks. */
    static ValidatableResponse conforms(ValidatableResponse response, String definition) {
        assertConforms(definition, response.extract().asString());
        return response;
    }
}
