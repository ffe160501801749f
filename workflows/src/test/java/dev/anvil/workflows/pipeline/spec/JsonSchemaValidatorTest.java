package dev.anvil.workflows.pipeline.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonSchemaValidatorTest {
    private static final Map<String, Object> SCHEMA = OperatorDescriptor.schemaFromJson("""
            {"type": "object",
             "properties": {
               "mode": {"enum": ["int8", "fp16"]},
               "ratio": {"type": "number", "minimum": 0, "maximum": 1},
               "layers": {"type": "array", "items": {"type": "integer", "minimum": 1}},
               "flag": {"type": ["boolean", "null"]},
               "extra": {"type": "object", "additionalProperties": {"type": "string"}}
             },
             "required": ["mode"],
             "additionalProperties": false}
            """);

    @Test
    void acceptsConformingValues() {
        Map<String, Object> ok = Map.of("mode", "int8", "ratio", 0.5, "layers", List.of(1, 2.0), "flag",
                true, "extra", Map.of("a", "b"));

        assertThat(JsonSchemaValidator.validate(SCHEMA, ok, "with")).isEmpty();
    }

    @Test
    void reportsEachViolationAtItsPath() {
        Map<String, Object> bad = new java.util.LinkedHashMap<>();
        bad.put("ratio", -0.1);
        bad.put("layers", List.of(0, "x"));
        bad.put("flag", "yes");
        bad.put("extra", Map.of("a", 1));
        bad.put("other", 1);

        assertThat(JsonSchemaValidator.validate(SCHEMA, bad, "with")).containsExactly(
                new SpecError("with.mode", "missing required field 'mode'; add it"),
                new SpecError("with.ratio", "must be at least 0, got -0.1"),
                new SpecError("with.layers[0]", "must be at least 1, got 0"),
                new SpecError("with.layers[1]", "must be an integer, got string 'x'"),
                new SpecError("with.flag", "must be a boolean or a null, got string 'yes'"),
                new SpecError("with.extra.a", "must be a string, got integer 1"),
                new SpecError("with.other", "unknown field 'other'; allowed fields: mode, ratio, layers, flag, extra"));
        assertThat(JsonSchemaValidator.validate(SCHEMA, Map.of("mode", "int4"), "with"))
                .containsExactly(new SpecError("with.mode", "must be one of [int8, fp16], got string 'int4'"));
    }

    @Test
    void refusesKeywordsItDoesNotImplement() {
        assertThatThrownBy(() -> JsonSchemaValidator.checkSupported(
                OperatorDescriptor.schemaFromJson("{\"properties\": {\"a\": {\"pattern\": \"x\"}}}")))
                .hasMessageStartingWith("JSON Schema keyword 'pattern' is not supported");
    }

    @Test
    void registryRefusesDuplicateOperators() {
        assertThatThrownBy(() -> OperatorRegistry.of(List.of(BuiltInOperators.NOOP, BuiltInOperators.NOOP)))
                .hasMessage("operator 'noop' is registered twice");
        assertThat(OperatorRegistry.builtIns().names()).containsExactly("approval", "canary", "convert", "gate", "inspect", "noop", "quantize", "sleep", "validate");
    }

    @Test
    void convertTakesAModelAndOptionalOpsetOptimizationAndFp16() {
        Map<String, Object> schema = BuiltInOperators.CONVERT.withSchema();
        Map<String, Object> ref = Map.of("uri", "s3://b/x", "sha256", "a".repeat(64), "size", 1, "mediaType", "application/vnd.onnx");

        assertThat(JsonSchemaValidator.validate(schema, Map.of("model", "a".repeat(64)), "with")).isEmpty();
        assertThat(JsonSchemaValidator.validate(schema, Map.of("model", ref, "opset", 13, "optimization", "extended",
                "fp16", true), "with")).isEmpty();
        assertThat(JsonSchemaValidator.validate(schema, Map.of("model", "${tasks.train.outputs.model}"), "with")).isEmpty();
        assertThat(JsonSchemaValidator.validate(schema, Map.of("model", "x", "opset", 25, "optimization", "max",
                "fp16", "yes"), "with")).extracting(SpecError::path)
                .containsExactlyInAnyOrder("with.opset", "with.optimization", "with.fp16");
        assertThat(JsonSchemaValidator.validate(schema, Map.of("opset", 13), "with")).extracting(SpecError::path)
                .containsExactly("with.model");
        assertThat(BuiltInOperators.CONVERT.deterministic()).isTrue();
    }
}
