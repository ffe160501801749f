#!/usr/bin/env bash
# cnn_mnist side by side in one run: ONNX Runtime FP32, Anvil's ONNX INT8 (static QDQ), TFLite float32, float16 weights
# and full-integer INT8 (both INT8 models from one calibration table: percentile 99.999 on 256 shuffled MNIST images).
# Size, accuracy and top-1 agreement with ONNX Runtime FP32 on the other 9,744 images, max abs error on probabilities,
# latency batch 1 p50/p95 with 1 and 2 threads (the TFLite interpreter through bytedeco tensorflow-lite 2.21.0,
# XNNPACK on; ONNX Runtime CPU). Then the same columns for Tribuo's logistic regression on sklearn's digits (a second
# model the converter covers), and the converter's refusal of all-MiniLM-L6-v2 and a Tribuo SVM. See docs/compile.md.
#
#   bench/compile.sh
#   ANVIL_BENCH_SAMPLES=2000 ANVIL_BENCH_ITERATIONS=500 bench/compile.sh   (0 samples: all 9,744)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

echo "compile bench: building (./mvnw -pl modelkit -am test-compile)" >&2
./mvnw -B -q -pl modelkit -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test

classpath="modelkit/target/test-classes:modelkit/target/classes:$(cat modelkit/target/bench.classpath)"

exec java -Xss8m -Xmx2g -Dslf4j.internal.verbosity=ERROR \
  -Dtest.shared.data="${ANVIL_SHARED_DATA:-$root/../shared/data}" \
  -Danvil.bench.samples="${ANVIL_BENCH_SAMPLES:-0}" -Danvil.bench.iterations="${ANVIL_BENCH_ITERATIONS:-2000}" \
  -cp "$classpath" dev.anvil.modelkit.compile.bench.CompileBench
