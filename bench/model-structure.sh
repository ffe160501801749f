#!/usr/bin/env bash
# Heap cost of reading a model's structure (OnnxModel.readStructure) on cnn_mnist, MiniLM (86 MiB) and a
# generated model of ANVIL_BENCH_MIB MiB (default 1024, a sparse file). See bench/README.md.
#
#   bench/model-structure.sh
#   ANVIL_BENCH_MIB=1900               size of the generated model (under 2048: one protobuf's limit)
#   ANVIL_BENCH_JAVA_OPTS=...          options for the bench JVM (default -Xmx32m)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

echo "model structure bench: building (./mvnw -pl modelkit -am test-compile)" >&2
./mvnw -B -q -pl modelkit -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test

classpath="modelkit/target/test-classes:modelkit/target/classes:$(cat modelkit/target/bench.classpath)"

# shellcheck disable=SC2086 # word splitting of the extra JVM options is intended
exec java ${ANVIL_BENCH_JAVA_OPTS:--Xmx32m} -cp "$classpath" \
  dev.anvil.modelkit.onnx.bench.ModelStructureBench
