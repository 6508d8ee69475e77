#!/bin/sh
# run_fuzzer.sh HARNESS SEEDS WORK DEFAULT_SECONDS
# Fuzzes HARNESS for $FUZZ_SECONDS (else DEFAULT_SECONDS) from the committed SEEDS plus what
# earlier runs kept in WORK/corpus (new inputs go there, never into the source tree). A crash,
# a leak, an input running past $FUZZ_TIMEOUT seconds (default 25) or 2 GB of memory fails the
# run; the input is then in WORK/artifacts/.
set -eu
harness=$1 seeds=$2 work=$3
seconds=${FUZZ_SECONDS:-$4}
mkdir -p "$work/corpus" "$work/artifacts"
exec "$harness" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-25}" -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds"
