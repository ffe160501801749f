package dev.anvil.activities.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.activities.operators.InvalidTaskInputException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The command's with block and the worker's settings, checked without running anything. */
class CommandSpecTest {
    @Test
    void timeoutsAreDurationsUpToADay() {
        assertThat(CommandSpec.parse(Map.of("command", List.of("true"))).timeout()).isEqualTo(Duration.ofHours(1));
        assertThat(CommandSpec.parse(Map.of("command", List.of("true"), "timeout", "30m")).timeout())
                .isEqualTo(Duration.ofMinutes(30));
        assertThat(CommandSpec.parse(Map.of("command", List.of("true"), "timeout", 1.5)).timeout())
                .isEqualTo(Duration.ofMillis(1500));
        assertThatThrownBy(() -> CommandSpec.parse(Map.of("command", List.of("true"), "timeout", "25h")))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("over the limit of 24h");
        assertThatThrownBy(() -> CommandSpec.parse(Map.of("command", List.of("true"), "timeout", "soon")))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("write e.g. 90s, 30m or 2h");
    }

    @Test
    void outputPathsAreNormalisedInsideTheWorkingDirectory() {
        assertThat(CommandSpec.relative("o", "out/./model.onnx")).isEqualTo(Path.of("out/model.onnx"));
        assertThatThrownBy(() -> CommandSpec.relative("o", "out/../../x")).hasMessageContaining("'..'");
        assertThatThrownBy(() -> CommandSpec.relative("o", "~/x")).hasMessageContaining("is absolute");
        assertThatThrownBy(() -> CommandSpec.relative("o", ".")).hasMessageContaining("working directory itself");
    }

    @Test
    void profilesAreReadFromTheWorkersEnvironmentOnly() {
        CommandSettings settings = CommandSettings.fromEnvironment(Map.of("ANVIL_WORKER_COMMANDS", "TRUE",
                "ANVIL_COMMAND_ENV_TRAINING_WANDB_API_KEY", "k", "ANVIL_COMMAND_ENV_GPU_CUDA_VISIBLE_DEVICES", "0",
                "PATH", "/opt/bin"));
        assertThat(settings.enabled()).isTrue();
        assertThat(settings.profile("Training")).contains(Map.of("WANDB_API_KEY", "k"));
        assertThat(settings.profile("gpu")).contains(Map.of("CUDA_VISIBLE_DEVICES", "0"));
        assertThat(settings.path()).isEqualTo("/opt/bin");
        assertThat(CommandSettings.fromEnvironment(Map.of("ANVIL_WORKER_COMMANDS", "yes")).enabled()).isFalse();
    }
}
