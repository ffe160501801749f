#!/usr/bin/env bash
# Inference gateway throughput and latency: starts Anvil on the local stack (./anvil up) unless one
# already answers at ANVIL_BENCH_URL, then drives cnn_mnist requests (batch 1 and 32, KServe v2 JSON and
# binary tensor data) from a second process (a Java load generator) through POST /v2/models/{name}/infer,
# against ONNX Runtime in-process on the same model with the same concurrency, and JSON batch 1 again
# with a 50/50 canary split; last, all-MiniLM-L6-v2, where inference dominates. See bench/README.md.
#
#   bench/serving.sh
#   ANVIL_BENCH_SECONDS=15        per measurement
#   ANVIL_BENCH_WARMUP_SECONDS=20 gateway warm-up before the first measurement
#   ANVIL_BENCH_CONCURRENCY=1,4   concurrent callers
#   ANVIL_BENCH_URL=http://127.0.0.1:8080   a running Anvil to use instead of starting one
#   ANVIL_BENCH_BATCHES=1,32      images per request
#   ANVIL_BENCH_MINILM=0          skip the all-MiniLM-L6-v2 rows (a model whose inference dominates)
#   ANVIL_BENCH_SERVER_PID=...    the gateway's pid, for its CPU per request (default: .anvil/api.pid)
#   ANVIL_TOKEN=...               admin bearer token, sent on every call, inference too (admin implies invoker;
#                                 default: the demo admin in .anvil/demo-tokens)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
url="${ANVIL_BENCH_URL:-http://127.0.0.1:${ANVIL_HTTP_PORT:-8080}}"

started=""
if ! curl -fsS "$url/q/health/ready" >/dev/null 2>&1; then
  echo "serving bench: starting Anvil (./anvil up)" >&2
  ./anvil up >&2
  started=yes
fi
cleanup() { if [ -n "$started" ]; then ./anvil down >&2 || true; fi; }
trap cleanup EXIT

# managing endpoints needs an admin token: the local stack's demo admin unless one is given
if [ -z "${ANVIL_TOKEN:-}" ] && [ -f .anvil/demo-tokens ]; then
  ANVIL_TOKEN="$(grep '^admin=' .anvil/demo-tokens | cut -d= -f2)"
  export ANVIL_TOKEN
fi

echo "serving bench: building the load generator (./mvnw -pl serving -am test-compile)" >&2
./mvnw -B -q -pl serving -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
# the gateway's pid, for its CPU time per request: the Anvil this script started (or ./anvil up did)
if [ -z "${ANVIL_BENCH_SERVER_PID:-}" ] && [ -f .anvil/api.pid ] && kill -0 "$(cat .anvil/api.pid)" 2>/dev/null; then
  ANVIL_BENCH_SERVER_PID="$(cat .anvil/api.pid)"
  export ANVIL_BENCH_SERVER_PID
fi
classpath="serving/target/test-classes:serving/target/classes:$(cat serving/target/bench.classpath)"

# -Xss8m: ONNX Runtime's environment start-up overflows the default main-thread stack under a long
# command line.
java -Xss8m -Xmx1g -Dslf4j.internal.verbosity=ERROR -cp "$classpath" \
  dev.anvil.serving.bench.ServingBench "$url" "${ANVIL_BENCH_MODEL:-../shared/data/models/cnn_mnist.onnx}"
