#!/usr/bin/env bash
# Training time (train + ONNX export + measuring the exported model) and held-out accuracy / macro F1 of
# Tribuo trainers on ../shared/data/sklearn/breast_cancer.csv, digits.csv.gz and a subset of the MNIST digits
# in ../shared/data/mnist (75/25 split, seed 1), one JVM, in order. See docs/training.md.
#
#   bench/train.sh
#   ANVIL_BENCH_TRAINERS=logistic,fm,liblinear,libsvm,bagging   trainers to compare (default logistic,libsvm)
#   ANVIL_BENCH_MNIST_SAMPLES=4000                               MNIST digits used (default 4000 of the 10,000,
#                                                               a seeded shuffle: the files are grouped by class;
#                                                               10000 for all of them, 0 to leave MNIST out)
#   ANVIL_BENCH_JAVA_OPTS=...                                   options for the bench JVM (default -Xmx2g)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

echo "train bench: building (./mvnw -pl modelkit -am test-compile)" >&2
./mvnw -B -q ${ANVIL_BENCH_MAVEN_OPTS:-} -pl modelkit -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test

classpath="modelkit/target/test-classes:modelkit/target/classes:$(cat modelkit/target/bench.classpath)"

# shellcheck disable=SC2086 # word splitting of the extra JVM options is intended
exec java -Xss8m ${ANVIL_BENCH_JAVA_OPTS:--Xmx2g} -Dtest.shared.data="$root/../shared/data" -cp "$classpath" \
  dev.anvil.modelkit.train.bench.TrainBench
