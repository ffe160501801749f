#!/usr/bin/env bash
# Compression (prune, cluster — one index per byte and packed b-bit with per-layer bits —, lowrank, structured
# pruning, and their recipes with INT8) against quantize
# alone on cnn_mnist: size on disk (raw and gzipped), top-1 on the 9,744 held-out MNIST images, latency p50
# at batch 1 and 32 on one thread; then all-MiniLM-L6-v2's low-rank curve (parameters vs mean and min cosine),
# plain SVD against activation-aware (whitened) SVD, sequential refinement, and embedding-table factorisation
# (uniform or weighted by token frequency).
# See docs/compression.md.
#
#   bench/compress.sh
#   ANVIL_BENCH_MODELS=cnn_mnist       only one model (cnn_mnist, minilm, or both comma-separated; conv_subsets:
#                                      every way to prune half of cnn_mnist's first Conv; int8_kernels: the INT8
#                                      models fused and unfused, and with u8 weights; neither is in the default)
#   ANVIL_BENCH_IMAGES=2000            evaluation images for conv_subsets
#   ANVIL_BENCH_TEXTS=300              held-out SpamAssassin texts for MiniLM's cosine
#   ANVIL_BENCH_EVAL_SKIP=100          MiniLM: evaluate on the held-out texts after the first 100 (default 0), to
#                                      check a choice made on the first slice
#   ANVIL_BENCH_CAL_TEXTS=128          calibration texts for activation-aware low rank (from the importer's
#                                      256-text calibration split, disjoint from the held-out texts)
#   ANVIL_BENCH_LOWRANK_ROWS=svd:0.8,aware:0.8,aware-error:0.9,aware-error:0.8,aware-error:0.7,embed-error:0.8,words:224
#                                      MiniLM rows: svd / aware (activation_aware, common energy) / aware-error
#                                      (allocation error) at a param_ratio of the MatMuls; seq-error: aware-error's
#                                      ranks with refine: sequential (each MatMul refitted in graph order on the
#                                      partly factorised model; one calibration pass per stage, so minutes per row);
#                                      embed-error at a param_ratio of MatMuls + embedding tables; words at a rank of
#                                      the word-embedding table alone (layer params: the embedding tables);
#                                      words-freq:RANK or RANK/FLOOR the same weighted by token frequency
#   ANVIL_BENCH_FREQ_TEXTS=128         calibration texts whose token ids are counted for words-freq (default: as
#                                      many as ANVIL_BENCH_CAL_TEXTS; at most the split's 256; never held-out texts)
#   ANVIL_BENCH_FREQ_FLOOR=1           words-freq's frequency_floor where the row gives none
#   ANVIL_BENCH_EVAL_ON=calibration    MiniLM's cosine on the calibration texts instead of the held-out ones (a
#                                      diagnostic of fit against generalisation; default held-out)
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
