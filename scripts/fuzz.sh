#!/usr/bin/env bash
# Runs the coverage-guided fuzz targets of fuzz/ (docs/fuzzing.md), each for a bounded time,
# one after the other with one worker: sip_decode, tcp_framer, sdp, api_request.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]     (default: 60 s, every target)
#
# Installs what it needs when it is missing: the nightly toolchain (cargo fuzz builds with
# -Zsanitizer=address) and cargo-fuzz. Each target starts from its committed corpus
# (fuzz/corpus/<target>/, read only); what it finds goes to a scratch directory, so a run
# leaves the tree as it was. A crash, a failed property, a timeout or running out of memory
# fails the run; its input is kept in fuzz/artifacts/<target>/ and printed. One summary line per
# target, then "fuzz: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(sip_decode tcp_framer sdp api_request)
fi
case $seconds in
  '' | *[!0-9]*) echo "fuzz.sh: seconds must be a number, got '$seconds'" >&2; exit 2 ;;
esac

if ! command -v rustup > /dev/null; then
  echo "fuzz.sh: rustup is needed (cargo fuzz runs on the nightly toolchain)" >&2
  exit 2
fi
if ! rustup run nightly rustc --version > /dev/null 2>&1; then
  echo "fuzz.sh: no nightly toolchain; installing it (rustup toolchain install nightly --profile minimal)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version > /dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz is missing; installing it (cargo install cargo-fuzz --locked)"
  cargo install cargo-fuzz --locked
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo "fuzz.sh: building the fuzz targets (nightly, AddressSanitizer)"
if ! cargo +nightly fuzz build > "$scratch/build.log" 2>&1; then
  tail -40 "$scratch/build.log"
  echo "fuzz: 0 passed, ${#targets[@]} failed (the fuzz targets do not build)"
  exit 1
fi
passed=0
failed=0
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target" "fuzz/artifacts/$target"
  log="$scratch/$target.log"
  status=0
  cargo +nightly fuzz run "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
    > "$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|NEW|REDUCE|pulse)' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$done_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$done_line")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<< "$done_line")
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "fuzz $target: ok, ${runs:-?} executions in ${seconds} s, coverage ${cov:-?} edges, ${ft:-?} features, corpus ${corp:-?} inputs"
  else
    failed=$((failed + 1))
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    echo "fuzz $target: FAILED (exit $status) after ${runs:-?} executions, coverage ${cov:-?} edges; input: ${artifact:-none written}"
    { grep -E -A4 'panicked at' "$log" | grep -v -E '^ *(stack backtrace|[0-9]+: |at )' || true
      grep -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|^SUMMARY' "$log" || true; } \
      | head -24 | cut -c1-400 | sed 's/^/  /'
    echo "  reproduce: cargo +nightly fuzz run $target ${artifact:-<input>}"
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
