package dev.anvil.activities.pipeline.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pipeline-overhead bench's CPU readings: thread groups, and the JVM's own threads from /proc. */
class BenchCpuReadingsTest {

    @Test
    void threadsOfOnePoolCountTogether() {
        String queue = "bench-overhead-0f8e2d1c-3b4a-4c5d-9e6f-7a8b9c0d1e2f";
        assertThat(PipelineOverheadBench.threadGroup("Workflow Executor taskQueue=\"" + queue + "\", namespace=\"default\": 12"))
                .isEqualTo("Workflow Executor taskQueue=\"QUEUE\", namespace=\"default\": N");
        assertThat(PipelineOverheadBench.threadGroup("grpc-default-worker-ELG-3-2"))
                .isEqualTo(PipelineOverheadBench.threadGroup("grpc-default-worker-ELG-1-7"))
                .isEqualTo("grpc-default-worker-ELG-N-N");
    }

    @Test
    void theJvmsOwnThreadsAreReadFromProc() {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux /proc");
        Map<String, Long> ticks = ProcCpu.jvmInternalThreads();
        // HotSpot names its VM thread so on Linux; garbage collector threads are numbered, and grouped as #N
        assertThat(ticks).containsKey("VM Thread");
        assertThat(ticks.keySet()).noneMatch(name -> name.matches(".*#\\d+.*"));
        assertThat(ticks.values()).allMatch(t -> t >= 0);
        long[] self = ProcCpu.selfUserKernel();
        assertThat(self).hasSize(2);
        assertThat(self[0] + self[1]).isPositive();
    }
}
