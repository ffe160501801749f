package dev.anvil.serving;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Direct buffers for input tensors, freed as soon as their request ends. A direct buffer's native memory
 * is otherwise returned only when the garbage collector gets round to the small heap object that owns
 * it: under a load of large requests the heap stays calm while gigabytes of native memory wait, so the
 * process's memory climbs and never comes back. Freeing uses {@code sun.misc.Unsafe.invokeCleaner}
 * (module jdk.unsupported, the supported way since Java 9, as Netty and Lucene do); where it is missing
 * the buffer is left to the collector as before.
 */
final class DirectBuffers {
    private static final System.Logger LOG = System.getLogger(DirectBuffers.class.getName());
    private static final MethodHandle INVOKE_CLEANER = invokeCleaner();

    private DirectBuffers() {
    }

    /** A direct buffer in native order, as ONNX Runtime takes without copying. */
    static ByteBuffer allocate(int bytes) {
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }

    /**
     * Frees the buffer's native memory now. Only for a buffer from {@link #allocate} that nothing reads
     * again: the tensor over it must be closed first.
     */
    static void free(ByteBuffer buffer) {
        if (INVOKE_CLEANER == null || buffer == null || !buffer.isDirect()) {
            return;
        }
        try {
            INVOKE_CLEANER.invokeExact(buffer);
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.DEBUG, "direct buffer left to the garbage collector: {0}", e.toString());
        }
    }

    /** True when buffers are freed at once rather than by the garbage collector. */
    static boolean freesAtOnce() {
        return INVOKE_CLEANER != null;
    }

    private static MethodHandle invokeCleaner() {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
            theUnsafe.setAccessible(true);
            Object unsafe = theUnsafe.get(null);
            return MethodHandles.lookup().findVirtual(unsafeClass, "invokeCleaner",
                    MethodType.methodType(void.class, ByteBuffer.class)).bindTo(unsafe);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "direct buffers will be freed by the garbage collector only: {0}",
                    e.toString());
            return null;
        }
    }
}
