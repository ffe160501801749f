package dev.anvil.api.temporal;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.api.config.AnvilConfig;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ANVIL_TEMPORAL_TLS_*: off by default, mutual TLS from PEM files, and a half-set pair named. */
class TemporalTlsTest {

    @TempDir
    Path dir;

    record Tls(Optional<Path> cert, Optional<Path> key, Optional<Path> ca, Optional<String> serverName)
            implements AnvilConfig.Temporal.Tls {}

    @Test
    void nothingSetMeansPlainGrpc() {
        assertThat(TemporalTls.context(new Tls(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty())))
                .isEmpty();
    }

    @Test
    void aCertificateKeyAndCaMakeAClientContext() throws Exception {
        Path[] pem = selfSigned();

        Optional<SslContext> context = TemporalTls.context(new Tls(Optional.of(pem[0]), Optional.of(pem[1]),
                Optional.of(pem[0]), Optional.empty()));

        assertThat(context).get().satisfies(c -> assertThat(c.isClient()).isTrue());
        assertThat(TemporalTls.context(new Tls(Optional.empty(), Optional.empty(), Optional.of(pem[0]), Optional.empty())))
                .isPresent();
    }

    @Test
    void halfAPairOrAMissingFileIsNamed() throws Exception {
        Path[] pem = selfSigned();

        assertThatThrownBy(() -> TemporalTls.context(new Tls(Optional.of(pem[0]), Optional.empty(), Optional.empty(),
                Optional.empty()))).hasMessageStartingWith("ANVIL_TEMPORAL_TLS_CERT and ANVIL_TEMPORAL_TLS_KEY go together");
        assertThatThrownBy(() -> TemporalTls.context(new Tls(Optional.of(pem[0]), Optional.of(dir.resolve("nope.pem")),
                Optional.empty(), Optional.empty()))).hasMessageContaining("ANVIL_TEMPORAL_TLS_KEY names")
                .hasMessageContaining("not a readable file");
        Files.writeString(dir.resolve("empty.pem"), "");
        assertThatThrownBy(() -> TemporalTls.context(new Tls(Optional.empty(), Optional.empty(),
                Optional.of(dir.resolve("empty.pem")), Optional.empty()))).hasMessageContaining("holds no PEM certificate");
    }

    /** A throwaway certificate (PEM) and its PKCS#8 key (PEM), made with the JDK's keytool. */
    private Path[] selfSigned() throws Exception {
        Path store = dir.resolve("client.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "client", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=anvil-worker",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "changeit",
                "-keypass", "changeit").redirectErrorStream(true).start();
        assertThat(keytool.waitFor()).as(new String(keytool.getInputStream().readAllBytes(), US_ASCII)).isZero();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, "changeit".toCharArray());
        }
        Key key = keys.getKey("client", "changeit".toCharArray());
        Certificate cert = keys.getCertificate("client");
        Path certPem = dir.resolve("cert.pem");
        Path keyPem = dir.resolve("key.pem");
        Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
        Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()));
        return new Path[] {certPem, keyPem};
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
