package dev.anvil.activities.external;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.activities.operators.InvalidTaskInputException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainingServicesTest {

    @Test
    void servicesComeFromEnvironmentNamesAndProperties() {
        TrainingServices services = TrainingServices.from(Map.of(
                "ANVIL_TRAINER_GPU_FARM_URL", "https://gpu.example.com/jobs",
                "ANVIL_TRAINER_GPU_FARM_AUTH", "Bearer s3cr3t",
                "anvil.trainer.local.url", "http://127.0.0.1:9000/jobs",
                "PATH", "/usr/bin"));
        assertThat(services.names()).containsExactly("gpu-farm", "local");
        TrainingService farm = services.require("gpu-farm");
        assertThat(farm.jobsUrl()).hasToString("https://gpu.example.com/jobs");
        assertThat(farm.authorization()).contains("Bearer s3cr3t");
        assertThat(farm.toString()).doesNotContain("s3cr3t");
        assertThat(services.require("local").authorization()).isEmpty();
    }

    @Test
    void anUnknownServiceIsBadInputNamingTheConfiguredOnes() {
        TrainingServices services = TrainingServices.from(Map.of("anvil.trainer.local.url", "http://127.0.0.1/jobs"));
        assertThatThrownBy(() -> services.require("https://evil.example.com"))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("no training service 'https://evil.example.com'").hasMessageContaining("[local]");
    }

    @Test
    void onlyHttpAndHttpsUrlsAreServices() {
        TrainingServices services = TrainingServices.from(Map.of(
                "ANVIL_TRAINER_FILES_URL", "file:///etc/passwd",
                "ANVIL_TRAINER_FTP_URL", "ftp://example.com/jobs",
                "ANVIL_TRAINER_BROKEN_URL", "http://exa mple.com/"));
        assertThat(services.names()).isEmpty();
        for (String name : new String[] {"files", "ftp", "broken"}) {
            assertThatThrownBy(() -> services.require(name)).isInstanceOf(InvalidTaskInputException.class)
                    .hasMessageContaining("'" + name + "' is misconfigured");
        }
    }

    @Test
    void tokensAreRandomAndOnlyTheirHashIsAnId() {
        String a = CallbackTokens.newToken();
        String b = CallbackTokens.newToken();
        assertThat(a).isNotEqualTo(b).hasSize(43);
        assertThat(CallbackTokens.wellFormed(a)).isTrue();
        assertThat(CallbackTokens.wellFormed("../../etc")).isFalse();
        assertThat(CallbackTokens.id(a)).matches("[0-9a-f]{64}").isEqualTo(CallbackTokens.id(a)).isNotEqualTo(a);
    }
}
