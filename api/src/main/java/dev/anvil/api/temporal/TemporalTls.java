package dev.anvil.api.temporal;

import dev.anvil.api.config.AnvilConfig;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.temporal.serviceclient.SimpleSslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Optional;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * The SSL context for Temporal from ANVIL_TEMPORAL_TLS_CERT, _KEY and _CA (PEM files), built with the
 * SDK's SimpleSslContextBuilder. With none set the client speaks plain gRPC, as the local dev server does.
 */
final class TemporalTls {
    private TemporalTls() {}

    static Optional<SslContext> context(AnvilConfig.Temporal.Tls tls) {
        if (tls.cert().isEmpty() && tls.key().isEmpty() && tls.ca().isEmpty()) {
            return Optional.empty();
        }
        if (tls.cert().isPresent() != tls.key().isPresent()) {
            throw new IllegalStateException("ANVIL_TEMPORAL_TLS_CERT and ANVIL_TEMPORAL_TLS_KEY go together: the client"
                    + " certificate chain and its PKCS#8 private key, both PEM files; set both for mutual TLS, or"
                    + " only ANVIL_TEMPORAL_TLS_CA for server-only TLS");
        }
        try {
            SimpleSslContextBuilder builder;
            if (tls.cert().isPresent()) {
                try (InputStream cert = open(tls.cert().get(), "ANVIL_TEMPORAL_TLS_CERT");
                     InputStream key = open(tls.key().get(), "ANVIL_TEMPORAL_TLS_KEY")) {
                    builder = SimpleSslContextBuilder.forPKCS8(cert, key);
                    return Optional.of(trusting(builder, tls).build());
                }
            }
            return Optional.of(trusting(SimpleSslContextBuilder.noKeyOrCertChain(), tls).build());
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot set up TLS to Temporal from ANVIL_TEMPORAL_TLS_CERT/_KEY/_CA: "
                    + e.getMessage(), e);
        }
    }

    private static SimpleSslContextBuilder trusting(SimpleSslContextBuilder builder, AnvilConfig.Temporal.Tls tls)
            throws IOException, GeneralSecurityException {
        if (tls.ca().isPresent()) {
            builder.setTrustManager(trustManager(tls.ca().get()));
        }
        return builder;
    }

    private static TrustManager trustManager(Path ca) throws IOException, GeneralSecurityException {
        Collection<? extends Certificate> certificates;
        try (InputStream in = open(ca, "ANVIL_TEMPORAL_TLS_CA")) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("ANVIL_TEMPORAL_TLS_CA " + ca + " holds no PEM certificate");
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int n = 0;
        for (Certificate certificate : certificates) {
            store.setCertificateEntry("temporal-ca-" + n++, certificate);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        return factory.getTrustManagers()[0];
    }

    private static InputStream open(Path file, String variable) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException(variable + " names " + file + ", which is not a readable file");
        }
        return Files.newInputStream(file);
    }
}
