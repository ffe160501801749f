package dev.anvil.activities.pipeline.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * CPU time from Linux's /proc, in clock ticks (USER_HZ, 100 a second on Linux): the whole machine
 * (/proc/stat) and the PostgreSQL server that serves a database (its postmaster and every process
 * under it, found through a backend connected to that database). Off Linux every reading is empty.
 */
final class ProcCpu {
    static final double TICKS_PER_SECOND = 100.0;

    private ProcCpu() {}

    /** Busy and total ticks of all CPUs since boot, or null where /proc/stat cannot be read. */
    static long[] machine() {
        try {
            String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
            long[] f = Arrays.stream(line.trim().split("\\s+")).skip(1).limit(8).mapToLong(Long::parseLong).toArray();
            long total = Arrays.stream(f).sum();
            long idle = f[3] + f[4]; // idle + iowait
            return new long[] {total - idle, total};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The postmaster of the server holding a backend connected to {@code database} (a backend's
     * command line reads "postgres: USER DATABASE HOST(PORT) STATE"), if one is connected now.
     */
    static OptionalLong postmasterOf(String database) {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> {
                        String cmd = cmdline(p);
                        return cmd.startsWith("postgres: ") && Arrays.asList(cmd.split("\\s+")).contains(database);
                    })
                    .map(p -> stat(p))
                    .filter(s -> s != null)
                    .mapToLong(s -> Long.parseLong(s[1]))
                    .findFirst();
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * CPU ticks the server has used: the postmaster's own and those of the children it reaped, plus
     * every live child's (backends, writers, checkpointer); -1 where it cannot be read.
     */
    static long serverTicks(long postmaster) {
        String[] root = stat(Path.of("/proc", Long.toString(postmaster)));
        if (root == null) {
            return -1;
        }
        long ticks = Long.parseLong(root[11]) + Long.parseLong(root[12]) + Long.parseLong(root[13]) + Long.parseLong(root[14]);
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            ticks += procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .map(ProcCpu::stat)
                    .filter(s -> s != null && Long.parseLong(s[1]) == postmaster)
                    .mapToLong(ProcCpu::cpuTicks)
                    .sum();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return ticks;
    }

    /** This process's user and kernel ticks ({@code /proc/self/stat}), or null where they cannot be read. */
    static long[] selfUserKernel() {
        String[] self = stat(Path.of("/proc/self"));
        return self == null ? null : new long[] {Long.parseLong(self[11]), Long.parseLong(self[12])};
    }

    /**
     * User and kernel ticks of this JVM's own threads that are not Java threads (garbage collector, JIT compilers,
     * VM thread), by thread name with numbers as N ({@code /proc/self/task/TID/comm}); empty where they cannot be read.
     */
    static Map<String, Long> jvmInternalThreads() {
        Map<String, Long> ticks = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            tasks.forEach(task -> {
                try {
                    String comm = Files.readString(task.resolve("comm")).trim();
                    if (JVM_INTERNAL.matcher(comm).lookingAt()) {
                        String[] stat = stat(task);
                        if (stat != null) {
                            ticks.merge(comm.replaceAll("#\\d+", "#N"), cpuTicks(stat), Long::sum);
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    // a thread that ended while listing
                }
            });
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return ticks;
    }

    private static final Pattern JVM_INTERNAL =
            Pattern.compile("GC Thread|G1 |C1 Compiler|C2 Compiler|VM Thread|VM Periodic|Service Thread");

    private static String cmdline(Path proc) {
        try {
            return new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ').trim();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** A process's or thread's own user and kernel ticks, from its {@link #stat} fields. */
    private static long cpuTicks(String[] stat) {
        return Long.parseLong(stat[11]) + Long.parseLong(stat[12]);
    }

    /** Fields of /proc/PID/stat after the command name: [0] state, [1] ppid, ... [11] utime, [12] stime, [13] cutime, [14] cstime. */
    private static String[] stat(Path proc) {
        try {
            String s = Files.readString(proc.resolve("stat"));
            String[] rest = s.substring(s.lastIndexOf(')') + 2).trim().split("\\s+");
            return rest.length > 14 ? rest : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
