package dev.anvil.activities.pipeline.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.operators.NoopOperator;
import dev.anvil.activities.operators.Operators;
import dev.anvil.activities.pipeline.TaskActivitiesImpl;
import dev.anvil.activities.runs.RunStateActivitiesImpl;
import dev.anvil.db.Migrations;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.LineageStore;
import dev.anvil.db.TaskRunStore;
import dev.anvil.devstack.LocalStack;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.devstack.TemporalDevServer;
import io.grpc.ManagedChannel;
import dev.anvil.workflows.pipeline.PipelinePlan;
import dev.anvil.workflows.pipeline.PipelineWorkflow;
import dev.anvil.workflows.pipeline.PipelineWorkflowImpl;
import dev.anvil.workflows.pipeline.PlannedTask;
import dev.anvil.workflows.pipeline.RunState;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.GrpcCompression;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Scheduling overhead of the pipeline engine: runs many 10-task {@code noop} pipelines (half a chain,
 * half a fan-out/fan-in) through one in-process worker on the local stack, several in flight at once,
 * and prints the per-task gap between an upstream task's end and its downstream task's start (from
 * task_runs), runs per minute, tasks per second and the JVM's CPU use. Run by
 * {@code bench/pipeline-overhead.sh}; see {@code bench/README.md}.
 */
public final class PipelineOverheadBench {
    private static final int TASKS = 10;
    /** The target for the median per-task overhead, on a 2-core machine. */
    private static final double TARGET_MS = 25.0;

    private PipelineOverheadBench() {}

    public static void main(String[] args) {
        int status = 1;
        try {
            run(args);
            status = 0;
        } catch (Exception e) {
            e.printStackTrace();
        } finally {
            System.exit(status); // the stack's server threads would keep the JVM alive; its shutdown hook stops them
        }
    }

    /** Above this share of the JVM's CPU in the JIT compilers, the bench says the JVM was still warming up. */
    private static final double JIT_BUSY_SHARE = 0.10;

    private record Config(int runs, int concurrency, int warmup, List<Integer> caches, List<String> transports, int pool) {}

    /** How the worker and the bench's client reach the dev server: gRPC on its TCP port, or in this JVM. */
    private static final List<String> TRANSPORTS = List.of("tcp", "in-process");

    /** One measured run: what the client saw, and the task runs PostgreSQL recorded. */
    private record RunResult(String runId, boolean chain, Instant submitted, Instant finished, String status) {}

    private static void run(String[] args) throws Exception {
        Config config = new Config(
                intSetting(args.length > 0 ? args[0] : null, "ANVIL_BENCH_RUNS", 200, 2),
                intSetting(null, "ANVIL_BENCH_CONCURRENCY", 8, 1),
                intSetting(null, "ANVIL_BENCH_WARMUP", 10, 0),
                Arrays.stream(System.getenv().getOrDefault("ANVIL_BENCH_CACHE", "0,600").split(","))
                        .map(String::trim).filter(s -> !s.isEmpty()).map(Integer::parseInt).toList(),
                Arrays.stream(System.getenv().getOrDefault("ANVIL_BENCH_TRANSPORT", "tcp,in-process").split(","))
                        .map(String::trim).filter(s -> !s.isEmpty()).toList(),
                intSetting(null, "ANVIL_BENCH_POOL", 16, 0));
        for (String transport : config.transports()) {
            if (!TRANSPORTS.contains(transport)) {
                throw new IllegalArgumentException("ANVIL_BENCH_TRANSPORT takes tcp and/or in-process (comma-separated),"
                        + " got '" + transport + "'");
            }
        }
        int cpus = Runtime.getRuntime().availableProcessors();
        System.out.printf(Locale.ROOT, "pipeline-overhead bench: %d runs of a %d-task noop pipeline (%d chain t0->...->t9,"
                        + " %d fan-out/fan-in t0->{t1..t8}->t9), %d in flight, %d warm-up run(s) not counted;"
                        + " %d CPU(s); DB pool %s%n",
                config.runs(), TASKS, (config.runs() + 1) / 2, config.runs() / 2, config.concurrency(), config.warmup(),
                cpus, config.pool() == 0 ? "off (a new connection per store call)" : "of " + config.pool());

        long[] idleBefore = ProcCpu.machine();
        Thread.sleep(1000);
        long[] idleAfter = ProcCpu.machine();
        if (idleBefore != null && idleAfter != null && idleAfter[1] > idleBefore[1]) {
            double busy = 100.0 * (idleAfter[0] - idleBefore[0]) / (idleAfter[1] - idleBefore[1]);
            System.out.printf(Locale.ROOT, "machine busy in the second before the bench: %.0f%% of all cores%s%n", busy,
                    busy > 10 ? " (other processes: the figures below are disturbed; rerun on a quiet machine)" : "");
        }
        System.out.println("starting the local stack (Temporal dev server, S3 server, embedded PostgreSQL)...");
        LocalStack stack = SharedLocalStack.get();
        boolean first = true;
        for (String transport : config.transports()) {
            // in-process: the client and worker reach the dev server inside this JVM, as ANVIL_TEMPORAL_TARGET=embedded
            boolean inProcess = transport.equals("in-process");
            WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(inProcess
                    // as EmbeddedTemporal in the api module: nothing to gain from compressing messages that stay in the JVM
                    ? WorkflowServiceStubsOptions.newBuilder().setChannel(inProcessChannel(stack))
                            .setGrpcCompression(GrpcCompression.NONE).build()
                    : WorkflowServiceStubsOptions.newBuilder().setTarget(stack.temporalTarget()).build());
            WorkflowClient client = WorkflowClient.newInstance(stubs);
            String where = inProcess ? "in this JVM, in-process transport (as ANVIL_TEMPORAL_TARGET=embedded)"
                    : "gRPC over TCP to " + stack.temporalTarget() + " (as the local stack, ./anvil up)";
            for (int cache : config.caches()) {
                if (!first) {
                    System.out.println();
                }
                first = false;
                PGSimpleDataSource raw = new PGSimpleDataSource();
                String url = SharedLocalStack.freshDatabase("bench_overhead");
                raw.setURL(url);
                raw.setUser(stack.config().dbUser());
                raw.setPassword(stack.config().dbPassword());
                Migrations.migrate(raw);
                try (PooledDataSource pooled = new PooledDataSource(raw, Math.max(1, config.pool()))) {
                    DataSource db = config.pool() == 0 ? raw : pooled;
                    measure(config, cache, client, db, url.substring(url.lastIndexOf('/') + 1), where);
                }
            }
            stubs.shutdownNow();
        }
    }

    /** A channel to the local stack's own dev server inside this JVM; an external Temporal has none. */
    private static ManagedChannel inProcessChannel(LocalStack stack) {
        return stack.temporalServer().map(TemporalDevServer::inProcessChannel).orElseThrow(() -> new IllegalStateException(
                "ANVIL_BENCH_TRANSPORT=in-process needs the local stack's own Temporal dev server, not an external one"));
    }

    private static void measure(Config config, int cache, WorkflowClient client, DataSource db, String database,
                                String target)
            throws Exception {
        String queue = "bench-overhead-" + UUID.randomUUID();
        PipelineRunStore runs = new PipelineRunStore(db);
        TaskRunStore taskRuns = new TaskRunStore(db);
        WorkerFactory factory = WorkerFactory.newInstance(client, factoryOptions(cache));
        Worker worker = factory.newWorker(queue, workerOptions(cache));
        worker.registerWorkflowImplementationTypes(PipelineWorkflowImpl.class);
        worker.registerActivitiesImplementations(
                new TaskActivitiesImpl(new Operators(new NoopOperator()), taskRuns, new LineageStore(db), new ObjectMapper()),
                new RunStateActivitiesImpl(runs));
        factory.start();
        String mode = cache == 0
                ? "workflow cache 0, sticky schedule-to-start timeout 0 (ANVIL_WORKER_WORKFLOW_CACHE_SIZE=0: every workflow"
                        + " task replays history)"
                : "workflow cache " + cache + ", sticky queues on (SDK default timeout; Anvil's default, local mode"
                        + " included)";
        System.out.printf(Locale.ROOT, "== worker: %s; max 8 concurrent activities; Temporal: %s%n", mode, target);
        try {
            if (config.warmup() > 0) {
                List<RunResult> warm = runAll(config.warmup(), config.concurrency(), client, runs, queue);
                requireSuccess(warm);
            }
            OptionalLong postmaster = ProcCpu.postmasterOf(database);
            CpuSample before = CpuSample.now(postmaster);
            long wallStart = System.nanoTime();
            List<RunResult> measured = runAll(config.runs(), config.concurrency(), client, runs, queue);
            long wallNanos = System.nanoTime() - wallStart;
            CpuSample after = CpuSample.now(postmaster);
            requireSuccess(measured);
            report(measured, taskRuns, wallNanos, before, after);
        } finally {
            factory.shutdownNow();
            factory.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /** As {@code WorkerSettings} in the api module (which activities cannot depend on): keep in step. */
    private static WorkerFactoryOptions factoryOptions(int cache) {
        WorkerFactoryOptions.Builder builder = WorkerFactoryOptions.newBuilder().setWorkflowCacheSize(cache);
        if (cache == 0) {
            builder.setMaxWorkflowThreadCount(600);
        }
        return builder.build();
    }

    /** As {@code WorkerSettings} in the api module (which activities cannot depend on): keep in step. */
    private static WorkerOptions workerOptions(int cache) {
        WorkerOptions.Builder builder = WorkerOptions.newBuilder().setMaxConcurrentActivityExecutionSize(8);
        if (cache == 0) {
            builder.setStickyQueueScheduleToStartTimeout(Duration.ZERO);
        }
        return builder.build();
    }

    /** Runs {@code count} pipelines, alternating chain and fan-out, {@code concurrency} in flight at once. */
    private static List<RunResult> runAll(int count, int concurrency, WorkflowClient client, PipelineRunStore runs,
                                          String queue) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(concurrency, r -> {
            Thread t = new Thread(r, "bench-client");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<RunResult>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                boolean chain = i % 2 == 0;
                futures.add(pool.submit(() -> runOne(chain, client, runs, queue)));
            }
            List<RunResult> results = new ArrayList<>();
            for (Future<RunResult> f : futures) {
                results.add(f.get(5, TimeUnit.MINUTES));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    private static RunResult runOne(boolean chain, WorkflowClient client, PipelineRunStore runs, String queue) {
        String runId = "bench-" + (chain ? "chain-" : "fan-") + UUID.randomUUID();
        String pipeline = chain ? "bench-chain" : "bench-fan";
        runs.create(runId, pipeline, 1, "{}", "bench");
        PipelineWorkflow wf = client.newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(runId).setTaskQueue(queue).build());
        PipelinePlan plan = new PipelinePlan(pipeline, 1, Map.of(), chain ? chain(queue) : fanOut(queue), 16, "bench");
        Instant submitted = Instant.now();
        WorkflowClient.start(wf::run, plan);
        RunState state = WorkflowStub.fromTyped(wf).getResult(RunState.class);
        return new RunResult(runId, chain, submitted, Instant.now(), state.status());
    }

    private static List<PlannedTask> chain(String queue) {
        return IntStream.range(0, TASKS)
                .mapToObj(i -> task("t" + i, i == 0 ? List.of() : List.of("t" + (i - 1)), queue)).toList();
    }

    private static List<PlannedTask> fanOut(String queue) {
        List<PlannedTask> tasks = new ArrayList<>();
        tasks.add(task("t0", List.of(), queue));
        List<String> middle = new ArrayList<>();
        for (int i = 1; i < TASKS - 1; i++) {
            tasks.add(task("t" + i, List.of("t0"), queue));
            middle.add("t" + i);
        }
        tasks.add(task("t" + (TASKS - 1), middle, queue));
        return tasks;
    }

    private static PlannedTask task(String id, List<String> upstream, String queue) {
        return new PlannedTask(id, "noop", upstream, "all_success", 0, Duration.ofSeconds(1), Duration.ofMinutes(1),
                queue, Map.of(), false);
    }

    private static void requireSuccess(List<RunResult> results) {
        List<String> bad = results.stream().filter(r -> !r.status().equals("success"))
                .map(r -> r.runId() + "=" + r.status()).toList();
        if (!bad.isEmpty()) {
            throw new IllegalStateException(bad.size() + " run(s) did not succeed: " + bad);
        }
    }

    private static void report(List<RunResult> results, TaskRunStore taskRuns, long wallNanos,
                               CpuSample before, CpuSample after) {
        List<Double> chainGaps = new ArrayList<>();
        List<Double> fanOutGaps = new ArrayList<>();
        List<Double> fanInGaps = new ArrayList<>();
        List<Double> firstTask = new ArrayList<>();
        List<Double> taskDurations = new ArrayList<>();
        List<Double> runLatency = new ArrayList<>();
        int retried = 0;
        for (RunResult r : results) {
            Map<String, TaskRun> firstAttempt = new HashMap<>();
            Map<String, TaskRun> lastAttempt = new HashMap<>();
            List<TaskRun> rows = taskRuns.listByRun(r.runId());
            for (TaskRun t : rows) {
                firstAttempt.merge(t.taskId(), t, (a, b) -> a.attempt() <= b.attempt() ? a : b);
                lastAttempt.merge(t.taskId(), t, (a, b) -> a.attempt() >= b.attempt() ? a : b);
                if (t.attempt() > 1) {
                    retried++;
                }
            }
            if (firstAttempt.size() != TASKS || rows.stream().anyMatch(t -> t.finishedAt() == null)) {
                throw new IllegalStateException("run " + r.runId() + " recorded " + rows.size()
                        + " task run(s), not " + TASKS + " finished ones");
            }
            List<PlannedTask> plan = r.chain() ? chain("q") : fanOut("q");
            for (PlannedTask task : plan) {
                TaskRun run = firstAttempt.get(task.id());
                taskDurations.add(millis(run.startedAt(), lastAttempt.get(task.id()).finishedAt()));
                if (task.upstream().isEmpty()) {
                    firstTask.add(millis(r.submitted(), run.startedAt()));
                    continue;
                }
                Instant upstreamDone = task.upstream().stream().map(u -> lastAttempt.get(u).finishedAt())
                        .max(Instant::compareTo).orElseThrow();
                double gap = millis(upstreamDone, run.startedAt());
                if (r.chain()) {
                    chainGaps.add(gap);
                } else if (task.upstream().size() == 1) {
                    fanOutGaps.add(gap);
                } else {
                    fanInGaps.add(gap);
                }
            }
            runLatency.add(millis(r.submitted(), r.finished()));
        }
        List<Double> fanAll = new ArrayList<>(fanOutGaps);
        fanAll.addAll(fanInGaps);

        System.out.println("scheduling overhead per task, ms: upstream task's finished_at -> this task's first started_at"
                + " (task_runs, PostgreSQL clock)");
        System.out.printf(Locale.ROOT, "  %-34s %6s %8s %8s %8s %8s%n", "tasks", "gaps", "median", "p95", "p99", "max");
        row("chain t1..t9", chainGaps);
        row("fan-out/fan-in, all t1..t9", fanAll);
        row("  fan-out t1..t8 (after t0)", fanOutGaps);
        row("  fan-in t9 (after last of t1..t8)", fanInGaps);
        row("first task: client start -> t0", firstTask);
        System.out.println("  (first task includes starting the workflow and its runStarted local activity;"
                + " client clock vs PostgreSQL clock, same host)");
        System.out.printf(Locale.ROOT, "  %-34s %6d %8.1f %8.1f %8.1f %8.1f%n", "noop task itself (start->finish)",
                taskDurations.size(), pct(taskDurations, 50), pct(taskDurations, 95), pct(taskDurations, 99),
                pct(taskDurations, 100));
        if (retried > 0) {
            System.out.printf("  note: %d task attempt(s) after the first (retries); gaps use each task's first attempt%n", retried);
        }

        double wallS = wallNanos / 1e9;
        int runs = results.size();
        System.out.printf(Locale.ROOT, "throughput: %d runs in %.1f s = %.0f runs/min, %.1f tasks/s;"
                        + " run latency (client start -> result) median %.0f ms, p95 %.0f ms%n",
                runs, wallS, runs / wallS * 60, runs * TASKS / wallS, pct(runLatency, 50), pct(runLatency, 95));

        int cpus = Runtime.getRuntime().availableProcessors();
        double jvmCores = (after.processCpuNanos() - before.processCpuNanos()) / (double) wallNanos;
        System.out.printf(Locale.ROOT, "CPU, bench JVM: %.0f%% of one core = %.0f%% of all %d cores (process CPU time / wall"
                        + " time). This JVM holds the worker and also the Temporal dev server, the S3 server, the"
                        + " bench client and the PostgreSQL client side; PostgreSQL runs in separate processes"
                        + " (next line)%n",
                jvmCores * 100, jvmCores * 100 / cpus, cpus);
        // CPU time per task moves less than latency when other processes share the machine
        System.out.printf(Locale.ROOT, "CPU time per task, bench JVM: %.2f ms (process CPU time over the measured phase /"
                        + " %d tasks)%n",
                (after.processCpuNanos() - before.processCpuNanos()) / 1e6 / (runs * TASKS), runs * TASKS);
        if (before.userKernel() != null && after.userKernel() != null) {
            long user = after.userKernel()[0] - before.userKernel()[0];
            long kernel = after.userKernel()[1] - before.userKernel()[1];
            if (user + kernel > 0) {
                System.out.printf(Locale.ROOT, "  of which in the kernel (system calls: sockets, thread wake-ups; /proc/self/stat):"
                        + " %.0f%%%n", 100.0 * kernel / (user + kernel));
            }
        }
        long tasks = (long) runs * TASKS;
        List<Map.Entry<String, Long>> groups = after.threads().entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.threads().getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .toList();
        long threadTotal = groups.stream().mapToLong(Map.Entry::getValue).sum();
        System.out.printf(Locale.ROOT, "CPU by thread (measured phase; threads alive at its end, by name with numbers as N):%n");
        for (Map.Entry<String, Long> group : groups.subList(0, Math.min(10, groups.size()))) {
            System.out.printf(Locale.ROOT, "  %-70s %6.3f ms/task %5.1f%%%n", group.getKey(), group.getValue() / 1e6 / tasks,
                    100.0 * group.getValue() / threadTotal);
        }
        System.out.printf(Locale.ROOT, "  %-70s %6.3f ms/task%n", "all Java threads", threadTotal / 1e6 / tasks);
        long jvmTotal = 0;
        long jitTicks = 0;
        for (Map.Entry<String, Long> jvm : after.jvmTicks().entrySet()) {
            long ticks = jvm.getValue() - before.jvmTicks().getOrDefault(jvm.getKey(), 0L);
            jvmTotal += ticks;
            if (jvm.getKey().contains("Compiler")) {
                jitTicks += ticks;
            }
            if (ticks > 0) {
                System.out.printf(Locale.ROOT, "  %-70s %6.3f ms/task%n", "JVM: " + jvm.getKey(),
                        ticks / ProcCpu.TICKS_PER_SECOND * 1e3 / tasks);
            }
        }
        if (after.jvmTicks().isEmpty()) {
            System.out.printf(Locale.ROOT, "  %-70s not measured (no /proc/self/task: Linux only)%n",
                    "JVM's own threads (garbage collection, JIT)");
        } else {
            System.out.printf(Locale.ROOT, "  %-70s %6.3f ms/task%n", "JVM's own threads (garbage collection, JIT; /proc)",
                    jvmTotal / ProcCpu.TICKS_PER_SECOND * 1e3 / tasks);
        }
        double jitShare = jitTicks / ProcCpu.TICKS_PER_SECOND * 1e9 / Math.max(1, after.processCpuNanos() - before.processCpuNanos());
        if (jitShare > JIT_BUSY_SHARE) {
            System.out.printf(Locale.ROOT, "  note: the JIT compilers used %.0f%% of this JVM's CPU in the measured phase: the JVM"
                    + " was still warming up, so these are the figures of its first minutes, not its steady state. On 2"
                    + " cores it settles after about 5,000 runs: ANVIL_BENCH_WARMUP=5000 (bench/README.md, \"Steady"
                    + " state\")%n", jitShare * 100);
        }
        double pgCores = -1;
        if (before.pgTicks() >= 0 && after.pgTicks() >= 0) {
            pgCores = (after.pgTicks() - before.pgTicks()) / ProcCpu.TICKS_PER_SECOND / (wallNanos / 1e9);
            System.out.printf(Locale.ROOT, "CPU, PostgreSQL server (postmaster and its processes, /proc): %.0f%% of one core%n",
                    pgCores * 100);
        }
        if (before.hostBusy() >= 0 && after.hostBusy() >= 0 && after.hostTotal() > before.hostTotal()) {
            double hostCores = cpus * (double) (after.hostBusy() - before.hostBusy()) / (after.hostTotal() - before.hostTotal());
            System.out.printf(Locale.ROOT, "CPU, whole machine (/proc/stat): %.0f%% of all %d cores busy; everything else"
                            + " (other processes, kernel) %.0f%% of one core%n",
                    hostCores * 100 / cpus, cpus, Math.max(0, hostCores - jvmCores - Math.max(0, pgCores)) * 100);
        }
        double chainMedian = pct(chainGaps, 50);
        double fanMedian = pct(fanAll, 50);
        System.out.printf(Locale.ROOT, "target: median per-task overhead < %.0f ms on 2 cores (this machine: %d):"
                        + " chain %.1f ms %s, fan-out/fan-in %.1f ms %s%n",
                TARGET_MS, cpus, chainMedian, chainMedian < TARGET_MS ? "MET" : "NOT MET",
                fanMedian, fanMedian < TARGET_MS ? "MET" : "NOT MET");
    }

    private static void row(String label, List<Double> values) {
        System.out.printf(Locale.ROOT, "  %-34s %6d %8.1f %8.1f %8.1f %8.1f%n", label, values.size(),
                pct(values, 50), pct(values, 95), pct(values, 99), pct(values, 100));
    }

    /** Nearest-rank percentile (p in 0..100]; NaN for no values. */
    static double pct(List<Double> values, double p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    private static double millis(Instant from, Instant to) {
        return Duration.between(from, to).toNanos() / 1e6;
    }

    private static int intSetting(String arg, String env, int fallback, int min) {
        String value = arg != null ? arg : System.getenv(env);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        int parsed;
        try {
            parsed = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(env + " must be a whole number, got '" + value + "'");
        }
        if (parsed < min) {
            throw new IllegalArgumentException(env + " must be at least " + min + ", got " + parsed);
        }
        return parsed;
    }

    /**
     * This JVM's CPU time (ns) and its user and kernel ticks (null where unknown), the machine's busy and total
     * ticks, the PostgreSQL server's ticks (-1 where unknown), and the CPU time (ns) of this JVM's live threads
     * by {@linkplain #threadGroup group}.
     */
    private record CpuSample(long processCpuNanos, long[] userKernel, long hostBusy, long hostTotal, long pgTicks,
                             Map<String, Long> threads, Map<String, Long> jvmTicks) {
        static CpuSample now(OptionalLong postmaster) {
            long process = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getProcessCpuTime();
            long[] machine = ProcCpu.machine();
            long pg = postmaster.isPresent() ? ProcCpu.serverTicks(postmaster.getAsLong()) : -1;
            Map<String, Long> threads = new HashMap<>();
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            for (ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
                long nanos = info == null ? -1 : mx.getThreadCpuTime(info.getThreadId());
                if (nanos > 0) {
                    threads.merge(threadGroup(info.getThreadName()), nanos, Long::sum);
                }
            }
            return new CpuSample(process, ProcCpu.selfUserKernel(), machine == null ? -1 : machine[0],
                    machine == null ? -1 : machine[1], pg, threads, ProcCpu.jvmInternalThreads());
        }
    }

    /** A thread's name without its numbers and queue names, so that a pool's threads count together. */
    static String threadGroup(String name) {
        return name.replaceAll("bench-overhead-[0-9a-f-]{36}", "QUEUE")
                .replaceAll("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID")
                .replaceAll("\\d+", "N");
    }
}
