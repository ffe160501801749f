#!/usr/bin/env bash
# Artifact store throughput and memory: streams a generated artifact up through ObjectStore.put and
# back down through ObjectStore.open (verified) against the local stack's S3 server, in a JVM with a
# small heap, and prints MiB/s up, MiB/s down and the peak heap. See bench/README.md.
#
#   bench/artifact-store.sh [SIZE_MIB]        default 1024 (or $ANVIL_BENCH_MIB)
#   ANVIL_BENCH_XMX=512m bench/artifact-store.sh 4096
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

size_mib="${1:-${ANVIL_BENCH_MIB:-1024}}"
xmx="${ANVIL_BENCH_XMX:-256m}"
if ! [[ "$size_mib" =~ ^[0-9]+$ ]] || (( size_mib < 1 )); then
  echo "artifact-store bench: size must be a whole number of MiB >= 1, got '$size_mib'" >&2
  exit 2
fi

# Compile main and test classes of storage and the modules it needs, and write the test classpath
# (in one reactor run, sibling modules resolve to their target/classes: no install needed).
echo "artifact-store bench: building (./mvnw -pl storage -am test-compile)" >&2
./mvnw -B -q -pl storage -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test

classpath="storage/target/test-classes:storage/target/classes:$(cat storage/target/bench.classpath)"

# The JVM runs outside Maven so -Xmx bounds the store (and the in-process S3 server) alone.
exec java "-Xmx${xmx}" -cp "$classpath" dev.anvil.storage.bench.ArtifactStoreBench "$size_mib"
