package dev.anvil.api.temporal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Whether this machine has an NVIDIA GPU a worker can use, and the evidence for it (for the log). The
 * environment, the file system and {@code nvidia-smi} are handed in, so tests decide what each says.
 *
 * <p>{@code CUDA_VISIBLE_DEVICES} wins when set: empty or {@code -1} hides every GPU (CUDA's own rule), any
 * other value names some. Unset, a GPU is there when {@code /dev/nvidia0} exists (the driver's device node,
 * which a Kubernetes device plugin mounts into the pod) or {@code nvidia-smi -L} lists one.
 */
public final class GpuProbe {
    private final Function<String, String> env;
    private final Predicate<Path> exists;
    private final Supplier<Optional<String>> nvidiaSmi;

    GpuProbe(Function<String, String> env, Predicate<Path> exists, Supplier<Optional<String>> nvidiaSmi) {
        this.env = env;
        this.exists = exists;
        this.nvidiaSmi = nvidiaSmi;
    }

    /** The probe of this process' machine. */
    public static GpuProbe system() {
        return new GpuProbe(System::getenv, Files::exists, GpuProbe::nvidiaSmiList);
    }

    /** @return what shows a GPU is present, or empty when none is */
    public Optional<String> find() {
        String visible = env.apply("CUDA_VISIBLE_DEVICES");
        if (visible != null) {
            String v = visible.trim();
            return v.isEmpty() || v.equals("-1") ? Optional.empty() : Optional.of("CUDA_VISIBLE_DEVICES=" + v);
        }
        if (exists.test(Path.of("/dev/nvidia0"))) {
            return Optional.of("/dev/nvidia0");
        }
        return nvidiaSmi.get().map(first -> "nvidia-smi -L: " + first);
    }

    /** The first GPU {@code nvidia-smi -L} lists; empty when it is missing, fails or lists none. */
    static Optional<String> nvidiaSmiList() {
        Path out = null;
        try {
            // output to a file, so a hung nvidia-smi cannot block a read: the wait below bounds it
            out = Files.createTempFile("anvil-nvidia-smi-", ".txt");
            Process p = new ProcessBuilder("nvidia-smi", "-L").redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.empty();
            }
            return p.exitValue() == 0
                    ? Files.readString(out, StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("GPU ")).findFirst()
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temp file left behind is harmless
                }
            }
        }
    }
}
