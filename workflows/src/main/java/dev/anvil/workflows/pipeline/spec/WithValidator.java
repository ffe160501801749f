package dev.anvil.workflows.pipeline.spec;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.i18n.ResourceBundleMessageSource;
import com.networknt.schema.path.NodePath;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Checks operator {@code with} blocks against the operators' JSON Schemas (draft 2020-12) with
 * networknt's json-schema-validator, and reports each violation as a {@link SpecError} at its
 * place in the spec ({@code tasks.quantize.with.samples}). Our wording of the common keywords
 * lives in {@code with-messages.properties}; the others keep the library's. A value that is one
 * whole {@code ${...}} reference is not checked: its type is known only at run time.
 */
public final class WithValidator {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final SchemaRegistry SCHEMAS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
            registry -> registry.schemaRegistryConfig(SchemaRegistryConfig.builder()
                    .messageSource(new ResourceBundleMessageSource(
                            "dev/anvil/workflows/pipeline/spec/with-messages", "jsv-messages"))
                    .build()));
    private static final String DIALECT = "https://json-schema.org/draft/2020-12/schema";
    /** Operator schemas are few and fixed, and compiling one costs far more than checking a block. */
    private static final Map<Map<String, Object>, Schema> COMPILED = new ConcurrentHashMap<>();

    private WithValidator() {}

    /** @throws IllegalArgumentException naming the operator and what is wrong, if its schema is not a valid JSON Schema */
    public static void checkSchema(OperatorDescriptor operator) {
        compile(operator);
    }

    /** The problems with {@code operator}'s {@code with} block, found at {@code path}; empty when it conforms. */
    public static List<SpecError> validate(OperatorDescriptor operator, Map<String, Object> with, String path) {
        return validate(compile(operator), with, path);
    }

    /** The problems with {@code value} (a whole spec, a {@code with} block) against {@code schema}, found at {@code path}. */
    static List<SpecError> validate(Schema schema, Object value, String path) {
        List<SpecError> errors = new ArrayList<>();
        for (Error e : schema.validate(JSON.<JsonNode>valueToTree(value))) {
            if (!References.looksWhole(e.getInstanceNode().isString() ? e.getInstanceNode().stringValue() : null)) {
                errors.add(new SpecError(where(path, e), what(e, schema.getSchemaNode())));
            }
        }
        return errors;
    }

    /** Compiles a schema written as JSON text, e.g. the published pipeline schema. */
    static Schema compile(String json) {
        return SCHEMAS.getSchema(JSON.readTree(json));
    }

    private static Schema compile(OperatorDescriptor operator) {
        return COMPILED.computeIfAbsent(operator.withSchema(), schema -> {
            JsonNode node = JSON.valueToTree(schema);
            List<Error> problems = SCHEMAS.getSchema(SchemaLocation.of(DIALECT)).validate(node);
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("operator '" + operator.name() + "': its with schema is not a valid"
                        + " JSON Schema (draft 2020-12): " + problems.stream().map(Error::toString)
                        .collect(Collectors.joining("; ")));
            }
            return SCHEMAS.getSchema(node);
        });
    }

    /** The spec path of the value at fault; a missing or unknown field is named after the object holding it. */
    private static String where(String base, Error e) {
        StringBuilder path = new StringBuilder(base);
        NodePath at = e.getInstanceLocation();
        for (int i = 0; i < at.getNameCount(); i++) {
            Object step = at.getElement(i);
            path.append(step instanceof Integer index ? "[" + index + "]" : (path.isEmpty() ? "" : ".") + step);
        }
        if (e.getProperty() != null) {
            path.append(path.isEmpty() ? "" : ".").append(e.getProperty());
        }
        return path.toString();
    }

    private static String what(Error e, JsonNode schema) {
        if ("additionalProperties".equals(e.getKeyword())) {
            return e.getMessage() + "; allowed fields: " + allowedFields(e, schema);
        }
        JsonNode value = e.getInstanceNode();
        return value.isValueNode() ? e.getMessage() + ", got " + describe(value) : e.getMessage();
    }

    /** The fields the object's schema names: the siblings of the {@code additionalProperties} that refused one. */
    private static String allowedFields(Error e, JsonNode schema) {
        JsonNode objectSchema = schema.at(e.getSchemaLocation().getFragment().getParent().toString());
        List<String> names = objectSchema.path("properties").propertyNames().stream().toList();
        return names.isEmpty() ? "none" : String.join(", ", names);
    }

    private static String describe(JsonNode value) {
        if (value.isNull()) {
            return "null";
        }
        if (value.isString()) {
            return "string '" + value.stringValue() + "'";
        }
        if (value.isBoolean()) {
            return "boolean " + value.booleanValue();
        }
        return (value.isIntegralNumber() ? "integer " : "number ") + value;
    }
}
