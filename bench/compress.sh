#!/usr/bin/env bash
# Compression (prune, cluster — one index per byte and packed b-bit with per-layer bits —, lowrank, structured
# pruning, and their recipes with INT8) against quantize
# alone on cnn_mnist: size on disk (raw and gzipped), top-1 on the 9,744 held-out MNIST images, latency p50
# at batch 1 and 32 on one thread; then all-MiniLM-L6-v2's low-rank curve (parameters vs mean cosine).
# See docs/compression.md.
#
#   bench/compress.sh
#   ANVIL_BENCH_MODELS=cnn_mnist       only one model (cnn_mnist, minilm, or both comma-separated)
#   ANVIL_BENCH_TEXTS=300              held-out SpamAssassin texts for MiniLM's cosine
#   ANVIL_BENCH_RATIOS=0.9,0.8,0.7     MiniLM param_ratio points
#   ANVIL_BENCH_JAVA_OPTS=...          options for the bench JVM (default -Xmx4g)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

echo "compress bench: building (./mvnw -pl modelkit -am test-compile)" >&2
./mvnw -B -q ${ANVIL_BENCH_MAVEN_OPTS:-} -pl modelkit -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test

classpath="modelkit/target/test-classes:modelkit/target/classes:$(cat modelkit/target/bench.classpath)"

# -Xss8m: as in bench/quantize.sh (ONNX Runtime's start-up under a long command line)
# shellcheck disable=SC2086 # word splitting of the extra JVM options is intended
exec java -Xss8m ${ANVIL_BENCH_JAVA_OPTS:--Xmx4g} -Dslf4j.internal.verbosity=ERROR -cp "$classpath" \
  dev.anvil.modelkit.compress.bench.CompressBench
