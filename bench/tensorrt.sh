#!/usr/bin/env bash
# For a person with an NVIDIA GPU (driver for CUDA 13, TensorRT 11.2 libraries installed, or the tensorrt
# linux-x86_64-redist jar added): cnn_mnist built by TensorRT at float32, float16 and int8 (from the calibration table
# bench/compile.sh uses), each run batch 1 on the 9,744 held-out MNIST images against ONNX Runtime FP32: build time,
# engine size, accuracy, agreement, max abs error on probabilities, latency p50/p95; beside ONNX Runtime CPU and, when
# ANVIL_ORT_GPU_JAR names an onnxruntime_gpu 1.29.0 jar, ONNX Runtime CUDA. Builds with -Pgpu (the JNI jars). Without
# a usable GPU it prints the detection's reason and exits 2. Never run in this project's CI (no GPU). docs/compile.md.
#
#   bench/tensorrt.sh
#   ANVIL_BENCH_SAMPLES=2000 ANVIL_BENCH_ITERATIONS=500 bench/tensorrt.sh
#   ANVIL_ORT_GPU_JAR=~/.m2/repository/com/microsoft/onnxruntime/onnxruntime_gpu/1.29.0/onnxruntime_gpu-1.29.0.jar bench/tensorrt.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

echo "tensorrt bench: building (./mvnw -Pgpu -pl modelkit -am test-compile)" >&2
./mvnw -B -q -Pgpu -pl modelkit -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench-gpu.classpath -Dmdep.includeScope=test

classpath="modelkit/target/test-classes:modelkit/target/classes:$(cat modelkit/target/bench-gpu.classpath)"
if [[ -n "${ANVIL_ORT_GPU_JAR:-}" ]]; then
  # the GPU build of ONNX Runtime in place of the CPU one (same classes, CUDA provider included)
  classpath="$ANVIL_ORT_GPU_JAR:$(tr ':' '\n' <<<"$classpath" | grep -v '/onnxruntime/1\.' | paste -sd: -)"
fi

exec java -Xss8m -Xmx4g -Dslf4j.internal.verbosity=ERROR \
  -Dtest.shared.data="${ANVIL_SHARED_DATA:-$root/../shared/data}" \
  -Danvil.bench.samples="${ANVIL_BENCH_SAMPLES:-0}" -Danvil.bench.iterations="${ANVIL_BENCH_ITERATIONS:-2000}" \
  -cp "$classpath" dev.anvil.modelkit.compile.bench.TensorRtBench
