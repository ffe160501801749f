package dev.anvil.api.temporal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.api.config.AnvilConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What ANVIL_TEMPORAL_TARGET=embedded accepts and refuses, before anything starts. */
class EmbeddedTemporalSettingsTest {

    @Test
    void onlyTheWordEmbeddedSelectsIt() {
        assertThat(EmbeddedTemporal.wanted(temporal("embedded", Optional.empty(), Optional.empty()))).isTrue();
        assertThat(EmbeddedTemporal.wanted(temporal(" Embedded ", Optional.empty(), Optional.empty()))).isTrue();
        assertThat(EmbeddedTemporal.wanted(temporal("127.0.0.1:7233", Optional.empty(), Optional.empty()))).isFalse();
        assertThat(EmbeddedTemporal.wanted(temporal("embedded:7233", Optional.empty(), Optional.empty()))).isFalse();
    }

    @Test
    void tlsSettingsAreRefusedNamingTheVariables() {
        assertThatThrownBy(() -> EmbeddedTemporal.start(
                temporal("embedded", Optional.empty(), Optional.of(Path.of("/etc/anvil/ca.pem")))))
                .hasMessageContaining("ANVIL_TEMPORAL_TARGET=embedded")
                .hasMessageContaining("ANVIL_TEMPORAL_TLS_CERT");
    }

    @Test
    void aListenAddressOffLoopbackIsRefused() {
        assertThatThrownBy(() -> EmbeddedTemporal.start(
                temporal("embedded", Optional.of("0.0.0.0:7233"), Optional.empty())))
                .hasMessageContaining("ANVIL_TEMPORAL_EMBEDDED_LISTEN must be a loopback address");
    }

    private static AnvilConfig.Temporal temporal(String target, Optional<String> listen, Optional<Path> ca) {
        AnvilConfig.Temporal.Tls tls = new AnvilConfig.Temporal.Tls() {
            @Override public Optional<Path> cert() { return Optional.empty(); }
            @Override public Optional<Path> key() { return Optional.empty(); }
            @Override public Optional<Path> ca() { return ca; }
            @Override public Optional<String> serverName() { return Optional.empty(); }
        };
        return new AnvilConfig.Temporal() {
            @Override public String target() { return target; }
            @Override public Optional<String> embeddedListen() { return listen; }
            @Override public String namespace() { return "default"; }
            @Override public Duration reconcileInterval() { return Duration.ofSeconds(60); }
            @Override public Tls tls() { return tls; }
        };
    }
}
