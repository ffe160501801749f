#!/usr/bin/env bash
# The inference gateway's memory under a burst of large requests: 64 requests of 16 MiB from 16
# concurrent callers to a ReduceSum model, VmRSS of the serving process at baseline, at its peak and
# 10 s and 30 s after (api's InferenceMemoryBench, a @QuarkusTest on the test stack: the test's process
# serves). The working tree runs twice in one go: with the JVM's defaults, and with
# deploy/jvm-memory.options as ./anvil and the container image start Anvil. With a git revision as
# argument, the same bench runs first on that revision (an exported copy in a temporary folder, JVM
# defaults), so every figure comes from one run on one machine.
#
#   bench/inference-memory.sh             # this working tree
#   bench/inference-memory.sh 9760040     # that revision, then this working tree
#   ANVIL_BENCH_REQUESTS=64 ANVIL_BENCH_CONCURRENCY=16
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="api/src/test/java/dev/anvil/api/bench/InferenceMemoryBench.java"
results="$(mktemp -d)"

run() { # $1 label, $2 tree, $3 JVM options for the serving process (may be empty)
  (cd "$2" && INFERENCE_BENCH_OUT="$results/$1" ./mvnw -B -q -pl api -am verify -DskipITs \
      -Dtest=InferenceMemoryBench -Dsurefire.failIfNoSpecifiedTests=false ${3:+"-DargLine=$3"} \
      >"$results/$1.log" 2>&1) || { echo "$1: the bench failed; see $results/$1.log" >&2; return 1; }
  echo "$1: $(cat "$results/$1")"
}
# the options file without its comments, on one line, as surefire's argLine
memory_options="$(sed -e 's/#.*//' "$root/deploy/jvm-memory.options" | xargs)"

if [ $# -ge 1 ]; then
  old="$(mktemp -d)"
  trap 'rm -rf "$old"' EXIT
  git -C "$root" archive "$1" | tar -x -C "$old"
  cp -r "$root/.mvn" "$old/" 2>/dev/null || true
  # the bench and the test helpers it uses, as this tree has them
  for f in "$bench" api/src/test/java/dev/anvil/api/InspectModelResourceTest.java; do
    mkdir -p "$old/$(dirname "$f")" && cp "$root/$f" "$old/$f"
  done
  run "$1" "$old" ""
fi
run "working tree, JVM defaults" "$root" ""
run "working tree, jvm-memory.options" "$root" "$memory_options"
