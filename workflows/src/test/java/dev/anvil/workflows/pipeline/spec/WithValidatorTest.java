package dev.anvil.workflows.pipeline.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WithValidatorTest {
    private static final OperatorDescriptor TYPED = new OperatorDescriptor("typed", "anvil-cpu",
            OperatorDescriptor.schemaFromJson("""
                    {"type": "object",
                     "properties": {
                       "mode": {"enum": ["int8", "fp16"]},
                       "ratio": {"type": "number", "minimum": 0, "maximum": 1},
                       "layers": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                       "flag": {"type": ["boolean", "null"]},
                       "extra": {"type": "object", "additionalProperties": {"type": "string"}},
                       "name": {"type": "string", "pattern": "^[a-z]+$"}
                     },
                     "required": ["mode"],
                     "additionalProperties": false}
                    """), false);

    @Test
    void acceptsConformingValues() {
        Map<String, Object> ok = Map.of("mode", "int8", "ratio", 0.5, "layers", List.of(1, 2.0), "flag",
                true, "extra", Map.of("a", "b"), "name", "abc");

        assertThat(WithValidator.validate(TYPED, ok, "with")).isEmpty();
    }

    @Test
    void reportsEachViolationAtItsPath() {
        Map<String, Object> bad = new LinkedHashMap<>();
        bad.put("ratio", -0.1);
        bad.put("layers", List.of(0, "x"));
        bad.put("flag", "yes");
        bad.put("extra", Map.of("a", 1));
        bad.put("name", "ABC");
        bad.put("other", 1);

        assertThat(WithValidator.validate(TYPED, bad, "with")).containsExactly(
                new SpecError("with.ratio", "must be at least 0, got number -0.1"),
                new SpecError("with.layers[0]", "must be at least 1, got integer 0"),
                new SpecError("with.layers[1]", "must be of type integer, got string 'x'"),
                new SpecError("with.flag", "must be of type [boolean, null], got string 'yes'"),
                new SpecError("with.extra.a", "must be of type string, got integer 1"),
                new SpecError("with.name", "does not match the regex pattern ^[a-z]+$, got string 'ABC'"),
                new SpecError("with.mode", "missing required field 'mode'; add it"),
                new SpecError("with.other", "unknown field 'other'; allowed fields: mode, ratio, layers, flag, extra, name"));
        assertThat(WithValidator.validate(TYPED, Map.of("mode", "int4"), "with"))
                .containsExactly(new SpecError("with.mode", "must be one of [\"int8\", \"fp16\"], got string 'int4'"));
    }

    @Test
    void aWholeReferenceIsLeftForRunTimeButAPartialOneIsChecked() {
        assertThat(WithValidator.validate(TYPED, Map.of("mode", "${params.mode}", "ratio", "${params.r}",
                "layers", List.of("${params.first}", 2)), "with")).isEmpty();
        assertThat(WithValidator.validate(TYPED, Map.of("mode", "int8", "ratio", "${params.r}x"), "with"))
                .containsExactly(new SpecError("with.ratio", "must be of type number, got string '${params.r}x'"));
    }

    @Test
    void registryRefusesASchemaThatIsNotJsonSchema() {
        OperatorDescriptor broken = new OperatorDescriptor("broken", "anvil-cpu",
                OperatorDescriptor.schemaFromJson("{\"type\": \"obj\", \"required\": \"model\"}"), false);

        assertThatThrownBy(() -> OperatorRegistry.of(List.of(broken)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("operator 'broken': its with schema is not a valid JSON Schema (draft 2020-12): ")
                .hasMessageContaining("/required: ");
    }

    @Test
    void quantizeTakesMethodAutoAndAFloorOrNone() {
        OperatorDescriptor quantize = BuiltInOperators.QUANTIZE;
        assertThat(WithValidator.validate(quantize, Map.of("model", "m", "dataset", "d", "method", "auto",
                "floor", Map.of("top1_agreement", 0.99), "evaluation", Map.of("pooling", "mean")), "with")).isEmpty();
        assertThat(WithValidator.validate(quantize, Map.of("model", "m", "floor", "none"), "with")).isEmpty();
        assertThat(WithValidator.validate(quantize, Map.of("model", "m", "floor", Map.of("mean_cosine", 0.95,
                "min_cosine", 0.9)), "with")).isEmpty();
        assertThat(WithValidator.validate(quantize, Map.of("model", "m", "floor", Map.of("accuracy", 0.9)), "with"))
                .isNotEmpty().allSatisfy(e -> assertThat(e.path()).startsWith("with.floor"));
        assertThat(WithValidator.validate(quantize, Map.of("model", "m", "floor", Map.of("top1_agreement", 1.5)), "with"))
                .isNotEmpty();
        assertThat(WithValidator.validate(quantize, Map.of("model", "m", "floor", "strict"), "with")).isNotEmpty();
    }

    @Test
    void registryRefusesDuplicateOperators() {
        assertThatThrownBy(() -> OperatorRegistry.of(List.of(BuiltInOperators.NOOP, BuiltInOperators.NOOP)))
                .hasMessage("operator 'noop' is registered twice");
        assertThat(OperatorRegistry.builtIns().names()).containsExactly("approval", "canary", "cluster", "command", "compile",
                "compress", "convert", "drift", "external", "gate", "inspect", "label", "lowrank", "noop", "package", "prune", "quantize", "sleep", "train",
                "validate");
    }

    @Test
    void convertTakesAModelAndOptionalOpsetOptimizationAndFp16() {
        OperatorDescriptor convert = BuiltInOperators.CONVERT;
        Map<String, Object> ref = Map.of("uri", "s3://b/x", "sha256", "a".repeat(64), "size", 1, "mediaType", "application/vnd.onnx");

        assertThat(WithValidator.validate(convert, Map.of("model", "a".repeat(64)), "with")).isEmpty();
        assertThat(WithValidator.validate(convert, Map.of("model", ref, "opset", 13, "optimization", "extended",
                "fp16", true), "with")).isEmpty();
        assertThat(WithValidator.validate(convert, Map.of("model", "${tasks.train.outputs.model}"), "with")).isEmpty();
        assertThat(WithValidator.validate(convert, Map.of("model", "x", "opset", 25, "optimization", "max",
                "fp16", "yes"), "with")).extracting(SpecError::path)
                .containsExactlyInAnyOrder("with.opset", "with.optimization", "with.fp16");
        assertThat(WithValidator.validate(convert, Map.of("opset", 13), "with")).extracting(SpecError::path)
                .containsExactly("with.model");
        assertThat(convert.deterministic()).isTrue();
    }

    @Test
    void convertTakesASelfCheckDatasetAndShapes() {
        OperatorDescriptor convert = BuiltInOperators.CONVERT;
        assertThat(WithValidator.validate(convert, Map.of("model", "a".repeat(64), "dataset", "${tasks.data.outputs.dataset}",
                "shapes", Map.of("images", List.of(1, 3, 640, 640), "batch", 1)), "with")).isEmpty();
        assertThat(WithValidator.validate(convert, Map.of("model", "a".repeat(64), "shapes",
                Map.of("images", List.of(1, 0, 640, 640))), "with")).extracting(SpecError::path)
                .contains("with.shapes.images[1]").allSatisfy(p -> assertThat(p).startsWith("with.shapes.images"));
        assertThat(WithValidator.validate(convert, Map.of("model", "a".repeat(64), "shapes", Map.of("height", "640")),
                "with")).extracting(SpecError::path).isNotEmpty().allSatisfy(p -> assertThat(p).isEqualTo("with.shapes.height"));
    }
}
