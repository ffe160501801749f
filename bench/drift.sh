#!/usr/bin/env bash
# Drift monitoring's cost in the gateway: the inference engine (decode the v2 JSON body, run ONNX Runtime, write the
# answer) for 10,000 requests with drift sampling off and on, side by side, in one JVM, one thread (no HTTP, so the
# difference is not lost in network time). See docs/drift.md.
#
#   bench/drift.sh
#   ANVIL_BENCH_REQUESTS=10000   requests per measurement
#   ANVIL_BENCH_ROUNDS=5         rounds (off and on alternate); the median is printed
#   ANVIL_BENCH_SAMPLE_SIZE=512  reservoir rows per endpoint version (ANVIL_GATEWAY_DRIFT_SAMPLE_SIZE)
#   ANVIL_BENCH_MODEL=../shared/data/models/cnn_mnist.onnx   a 784-feature model for the third row
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

echo "drift bench: building (./mvnw -pl serving -am test-compile)" >&2
./mvnw -B -q ${ANVIL_BENCH_MAVEN_OPTS:-} -pl serving -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
classpath="serving/target/test-classes:serving/target/classes:$(cat serving/target/bench.classpath)"

exec java -Xss8m -Xmx1g -Dslf4j.internal.verbosity=ERROR \
  -Danvil.bench.requests="${ANVIL_BENCH_REQUESTS:-10000}" -Danvil.bench.rounds="${ANVIL_BENCH_ROUNDS:-5}" \
  -Danvil.bench.sampleSize="${ANVIL_BENCH_SAMPLE_SIZE:-512}" -cp "$classpath" \
  dev.anvil.serving.DriftBench "${ANVIL_BENCH_MODEL:-../shared/data/models/cnn_mnist.onnx}"
