#!/usr/bin/env bash
# FP32 vs INT8 on cnn_mnist and all-MiniLM-L6-v2: latency p50/p95 (batch 1 and 32, 1 and 2 threads), size,
# accuracy / cosine agreement, calibration time against plain inference; MiniLM's published INT8 twin
# side by side. See bench/README.md.
#
#   bench/quantize.sh
#   ANVIL_BENCH_MODELS=cnn_mnist       only one model (cnn_mnist, minilm, or both comma-separated)
#   ANVIL_BENCH_TEXTS=1000             held-out SpamAssassin texts for MiniLM's cosine (0 = all 5,790)
#   ANVIL_BENCH_MINILM_ITERATIONS_B1=40 / _B32=6   timed runs per MiniLM latency cell
#   ANVIL_BENCH_JAVA_OPTS=...          options for the bench JVM (default -Xmx4g)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

echo "quantize bench: building (./mvnw -pl modelkit -am test-compile)" >&2
./mvnw -B -q -pl modelkit -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test

classpath="modelkit/target/test-classes:modelkit/target/classes:$(cat modelkit/target/bench.classpath)"

# -Xss8m: ONNX Runtime's environment start-up overflows the default main-thread stack under a long
# command line (a crash seen with this classpath).
# shellcheck disable=SC2086 # word splitting of the extra JVM options is intended
exec java -Xss8m ${ANVIL_BENCH_JAVA_OPTS:--Xmx4g} -Dslf4j.internal.verbosity=ERROR -cp "$classpath" \
  dev.anvil.modelkit.quantize.bench.QuantizeBench
