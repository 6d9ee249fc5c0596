#!/usr/bin/env bash
# Sets up and runs every test: formatting, lints, unit and simulator tests, integration tests
# (the real binary against SIPp, and against Kamailio and baresip), the C library's tests, the
# Python package's tests, the fuzz targets for a bounded time (FUZZ_SECONDS each, default 20),
# then the SIPp-in-Docker suite. SKIP_DOCKER=1 leaves the Docker suite out, SKIP_FUZZ=1 the
# fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_DOCKER:-}" = 1 ]; then ./scripts/setup.sh; else ./scripts/setup.sh --docker; fi
./scripts/setup-interop.sh
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --all-targets
cargo bench --bench load -- --smoke
./libtapi/run-tests.sh
./clients/python/run-tests.sh
if [ "${SKIP_FUZZ:-}" != 1 ]; then
  ./scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi
if [ "${SKIP_DOCKER:-}" != 1 ]; then
  ./docker/run-tests.sh
fi
