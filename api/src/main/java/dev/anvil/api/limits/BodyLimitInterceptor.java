package dev.anvil.api.limits;

import jakarta.ws.rs.ext.Provider;
import jakarta.ws.rs.ext.ReaderInterceptor;
import jakarta.ws.rs.ext.ReaderInterceptorContext;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Counts the bytes of a body as its reader consumes them and stops at the limit {@link BodyLimits}
 * set for the endpoint: a chunked body announces no length, so counting is the only bound.
 */
@Provider
public class BodyLimitInterceptor implements ReaderInterceptor {
    @Override
    public Object aroundReadFrom(ReaderInterceptorContext context) throws IOException {
        if (context.getProperty(BodyLimits.LIMIT_PROPERTY) instanceof Long limit) {
            context.setInputStream(new CountingStream(context.getInputStream(), limit,
                    String.valueOf(context.getProperty(BodyLimits.ENDPOINT_PROPERTY))));
        }
        return context.proceed();
    }

    /** Throws the 413 problem on the first byte past the limit. */
    private static final class CountingStream extends FilterInputStream {
        private final long limit;
        private final String endpoint;
        private long count;

        CountingStream(InputStream in, long limit, String endpoint) {
            super(in);
            this.limit = limit;
            this.endpoint = endpoint;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                counted(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                counted(n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(n);
            counted(skipped);
            return skipped;
        }

        private void counted(long n) {
            count += n;
            if (count > limit) {
                throw BodyLimits.tooLarge(endpoint, "passed " + limit + " bytes while being read");
            }
        }
    }
}
