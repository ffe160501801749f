#!/usr/bin/env bash
# Pipeline engine scheduling overhead: runs many 10-task noop pipelines (half a chain t0->...->t9, half
# a fan-out/fan-in t0->{t1..t8}->t9) through one in-process worker on the local stack, several in
# flight at once, and prints the per-task gap from upstream end to task start (median, p95, p99, from
# task_runs), runs per minute, tasks per second and the JVM's CPU use. See bench/README.md.
#
#   bench/pipeline-overhead.sh [RUNS]            default 200 (or $ANVIL_BENCH_RUNS), per worker mode
#   ANVIL_BENCH_CONCURRENCY=8   runs in flight at once
#   ANVIL_BENCH_WARMUP=10       runs before the measured ones, not counted (5000 for the steady state: the JIT
#                               compilers take minutes on 2 cores; the bench says when they were still busy)
#   ANVIL_BENCH_CACHE=0,600     worker modes to measure, by workflow cache size (600 = Anvil's default)
#   ANVIL_BENCH_TRANSPORT=tcp,in-process   how worker and client reach the dev server: gRPC over TCP (the local
#                               stack, ./anvil up) or inside the JVM (ANVIL_TEMPORAL_TARGET=embedded); each cache mode
#                               is measured once per transport
#   ANVIL_BENCH_POOL=16         database connections (as the API's pool); 0 = a new connection per call
#   ANVIL_BENCH_JAVA_OPTS=...   extra options for the bench JVM (default -Xmx1g)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

runs="${1:-${ANVIL_BENCH_RUNS:-200}}"
if ! [[ "$runs" =~ ^[0-9]+$ ]] || (( runs < 2 )); then
  echo "pipeline-overhead bench: RUNS must be a whole number >= 2, got '$runs'" >&2
  exit 2
fi

# Compile main and test classes of activities and the modules it needs, and write the test classpath
# (in one reactor run, sibling modules resolve to their target/classes: no install needed).
echo "pipeline-overhead bench: building (./mvnw -pl activities -am test-compile)" >&2
./mvnw -B -q -pl activities -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test

classpath="activities/target/test-classes:activities/target/classes:$(cat activities/target/bench.classpath)"

# shellcheck disable=SC2086 # word splitting of the extra JVM options is intended
exec java ${ANVIL_BENCH_JAVA_OPTS:--Xmx1g} -cp "$classpath" \
  dev.anvil.activities.pipeline.bench.PipelineOverheadBench "$runs"
