package dev.anvil.devstack;

import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;

/** S3Proxy over a plain directory: a real S3 protocol endpoint whose objects are files on disk. */
public final class S3Server implements Closeable {
    private final S3Proxy proxy;
    private final String endpoint;

    private S3Server(S3Proxy proxy, String endpoint) {
        this.proxy = proxy;
        this.endpoint = endpoint;
    }

    public static S3Server start(String host, int port, Path dataDir, String accessKey, String secretKey) {
        Ports.requireFree(host, port, "S3 server", "ANVIL_DEVSTACK_S3_PORT");
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new DevStackException("cannot create the object directory " + dataDir + ": " + e.getMessage(), e);
        }
        String endpoint = "http://" + host + ":" + port;
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(new FilesystemNio2BlobStore(dataDir.toAbsolutePath().toString()))
                .endpoint(URI.create(endpoint))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .build();
        try {
            proxy.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!"STARTED".equals(proxy.getState())) {
                if (System.nanoTime() > deadline) {
                    throw new DevStackException("the S3 server did not start within 30 s (state " + proxy.getState() + ")");
                }
                Thread.sleep(20);
            }
        } catch (DevStackException e) {
            throw e;
        } catch (Exception e) {
            throw new DevStackException("the S3 server failed to start on " + endpoint + ": " + e.getMessage(), e);
        }
        return new S3Server(proxy, endpoint);
    }

    public String endpoint() {
        return endpoint;
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new DevStackException("the S3 server did not stop cleanly: " + e.getMessage(), e);
        }
    }
}
