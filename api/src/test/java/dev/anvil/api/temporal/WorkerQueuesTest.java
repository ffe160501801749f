package dev.anvil.api.temporal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.modelkit.compile.tensorrt.GpuDevice;
import dev.anvil.modelkit.compile.tensorrt.TensorRtRuntime;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class WorkerQueuesTest {

    @Test
    void aWorkerWithoutAGpuPollsOnlyTheCpuQueue() {
        WorkerQueues q = WorkerQueues.choose(Optional.empty(), probe(Map.of(), false, Optional.empty()), NOT_ASKED);
        assertThat(q.queues()).containsExactly("anvil-cpu");
        assertThat(q.runsWorkflows()).isTrue();
        assertThat(q.why()).contains("no GPU found", "ANVIL_WORKER_QUEUES=anvil-cpu,anvil-gpu");
    }

    @Test
    void aDetectedGpuAddsTheGpuQueue() {
        assertThat(WorkerQueues.choose(Optional.empty(), probe(Map.of(), true, Optional.empty()), LOADS).queues())
                .containsExactly("anvil-cpu", "anvil-gpu");
        WorkerQueues smi = WorkerQueues.choose(Optional.empty(),
                probe(Map.of(), false, Optional.of("GPU 0: NVIDIA H100 (UUID: GPU-1)")), LOADS);
        assertThat(smi.queues()).containsExactly("anvil-cpu", "anvil-gpu");
        assertThat(smi.why()).contains("nvidia-smi -L: GPU 0: NVIDIA H100");
    }

    @Test
    void cudaVisibleDevicesDecidesWhenSet() {
        assertThat(probe(Map.of("CUDA_VISIBLE_DEVICES", "0,1"), false, Optional.empty()).find())
                .contains("CUDA_VISIBLE_DEVICES=0,1");
        // empty or -1 hide every GPU, even where the device node is there
        assertThat(probe(Map.of("CUDA_VISIBLE_DEVICES", ""), true, Optional.of("GPU 0: x")).find()).isEmpty();
        assertThat(probe(Map.of("CUDA_VISIBLE_DEVICES", "-1"), true, Optional.empty()).find()).isEmpty();
    }

    @Test
    void theDeviceNodeIsEnoughAndNvidiaSmiIsNotRunThen() {
        AtomicInteger smiRuns = new AtomicInteger();
        GpuProbe p = new GpuProbe(Map.<String, String>of()::get, path -> path.equals(Path.of("/dev/nvidia0")), () -> {
            smiRuns.incrementAndGet();
            return Optional.empty();
        });
        assertThat(p.find()).contains("/dev/nvidia0");
        assertThat(smiRuns).hasValue(0);
    }

    @Test
    void configuredQueuesWinAndTheProbeIsNotAsked() {
        GpuProbe failing = new GpuProbe(name -> {
            throw new AssertionError("probed");
        }, path -> false, Optional::empty);
        WorkerQueues gpuOnly = WorkerQueues.choose(Optional.of(" anvil-gpu "), failing, LOADS);
        assertThat(gpuOnly.queues()).containsExactly("anvil-gpu");
        assertThat(gpuOnly.runsWorkflows()).isFalse();
        assertThat(gpuOnly.why()).startsWith("ANVIL_WORKER_QUEUES=anvil-gpu; TensorRT 11.2.0 on NVIDIA H100");
        assertThat(WorkerQueues.choose(Optional.of("anvil-gpu,anvil-cpu,anvil-gpu,"), failing, LOADS).queues())
                .containsExactly("anvil-cpu", "anvil-gpu");
    }

    @Test
    void aGpuWhereTensorRtCannotLoadIsNotPolledAndTheLogSaysWhy() {
        WorkerQueues q = WorkerQueues.choose(Optional.empty(), probe(Map.of(), true, Optional.empty()), NO_NATIVES);
        assertThat(q.queues()).containsExactly("anvil-cpu");
        assertThat(q.why()).contains("GPU found (/dev/nvidia0) but TensorRT cannot run here (TensorRT natives not on"
                + " the class path (build with -Pgpu)), so anvil-gpu is not polled");
        WorkerQueues both = WorkerQueues.choose(Optional.of("anvil-cpu,anvil-gpu"), probe(Map.of(), true,
                Optional.empty()), NO_NATIVES);
        assertThat(both.queues()).containsExactly("anvil-cpu");
        assertThat(both.why()).contains("anvil-gpu left out: TensorRT cannot run here (TensorRT natives not on the"
                + " class path");
    }

    @Test
    void aGpuOnlyWorkerWithoutTensorRtDoesNotStart() {
        assertThatThrownBy(() -> WorkerQueues.choose(Optional.of("anvil-gpu"), probe(Map.of(), true, Optional.empty()),
                NO_NATIVES))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ANVIL_WORKER_QUEUES=anvil-gpu, but TensorRT cannot run here: TensorRT natives"
                        + " not on the class path (build with -Pgpu)")
                .hasMessageContaining("This GPU worker does not start");
    }

    @Test
    void thisMachinesDetectionGivesAReasonWhenTensorRtIsMissing() {
        // no GPU and no natives in this build: the real detection, as start-up runs it
        TensorRtRuntime.Availability here = TensorRtRuntime.detect();
        org.junit.jupiter.api.Assumptions.assumeFalse(here.available(), "TensorRT loads here: " + here.reason());
        assertThatThrownBy(() -> WorkerQueues.choose(Optional.of("anvil-gpu"), probe(Map.of(), true, Optional.empty()),
                TensorRtRuntime::detect)).hasMessageContaining(here.reason());
    }

    @Test
    void unknownOrNoQueuesAreRefusedNamingTheKnownOnes() {
        assertThatThrownBy(() -> WorkerQueues.parse("anvil-cpu,anvil-tpu"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ANVIL_WORKER_QUEUES: unknown task queue 'anvil-tpu'; known queues: anvil-cpu, anvil-gpu");
        assertThatThrownBy(() -> WorkerQueues.parse(" , "))
                .hasMessageContaining("ANVIL_WORKER_QUEUES names no task queue")
                .hasMessageContaining("anvil-cpu, anvil-gpu");
    }

    @Test
    void maxActivitiesIsBounded() {
        assertThat(WorkerQueues.checkMaxActivities(1)).isEqualTo(1);
        assertThat(WorkerQueues.checkMaxActivities(256)).isEqualTo(256);
        assertThatThrownBy(() -> WorkerQueues.checkMaxActivities(0))
                .hasMessage("ANVIL_WORKER_MAX_ACTIVITIES=0 is out of range; give 1 to 256 (activities one worker runs "
                        + "at once on each queue it polls)");
        assertThatThrownBy(() -> WorkerSettings.workerOptions(0, 257)).hasMessageContaining("ANVIL_WORKER_MAX_ACTIVITIES=257");
        assertThat(WorkerSettings.workerOptions(0, 32).getMaxConcurrentActivityExecutionSize()).isEqualTo(32);
    }

    @Test
    void theRealProbeAnswersOnAnyMachine() {
        // with or without nvidia-smi installed: a missing command is "no GPU", never an exception
        assertThat(GpuProbe.nvidiaSmiList()).isNotNull();
        assertThat(GpuProbe.system().find()).isNotNull();
    }

    static final Supplier<TensorRtRuntime.Availability> LOADS = () -> TensorRtRuntime.Availability.of(
            new GpuDevice("NVIDIA H100 80GB HBM3", "9.0", "13.3", "13.3", "11.2.0"));
    static final Supplier<TensorRtRuntime.Availability> NO_NATIVES = () -> TensorRtRuntime.Availability.unavailable(
            "TensorRT natives not on the class path (build with -Pgpu)");
    static final Supplier<TensorRtRuntime.Availability> NOT_ASKED = () -> {
        throw new AssertionError("TensorRT detection is not needed without anvil-gpu");
    };

    private static GpuProbe probe(Map<String, String> env, boolean deviceNode, Optional<String> smi) {
        return new GpuProbe(env::get, path -> deviceNode && path.equals(Path.of("/dev/nvidia0")), () -> smi);
    }
}
