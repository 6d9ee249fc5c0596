#!/usr/bin/env bash
# libtapi's checks and tests: formatting, clippy, the Rust unit tests, and the C programs
# (structure layouts, errors, the dwNeededSize loop, USEEVENT with poll(), the ordering gate,
# sessions against a fake gateway) and the C examples against the real tapigw binary with SIPp.
#
#   libtapi/run-tests.sh [--release]
#
# Needs cc, c++ and sipp (scripts/setup.sh installs SIPp). Builds the gateway binary of the
# same profile first unless TAPIGW_BIN names one.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=()
if [ "${1:-}" = "--release" ]; then profile=(--release); fi
command -v cc >/dev/null 2>&1 || { echo "cc not found: install a C compiler (build-essential)" >&2; exit 1; }
command -v sipp >/dev/null 2>&1 || ./scripts/setup.sh
if [ -z "${TAPIGW_BIN:-}" ]; then
  cargo build "${profile[@]}" -p tapigw --bin tapigw
fi
cargo fmt -p tapi --check
cargo clippy "${profile[@]}" -p tapi --all-targets -- -D warnings
cargo test "${profile[@]}" -p tapi --all-targets
