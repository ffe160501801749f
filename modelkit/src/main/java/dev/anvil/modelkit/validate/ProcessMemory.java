package dev.anvil.modelkit.validate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's resident memory from /proc (Linux). ONNX Runtime allocates outside the Java heap, so
 * the heap figures of the JVM miss it; the growth of resident memory across a session is the nearest
 * measure of what the session holds. Null where /proc is absent (the report says so).
 */
final class ProcessMemory {
    private ProcessMemory() {
    }

    static Long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return null;
        }
        return null;
    }
}
