#!/usr/bin/env bash
# Sets up and runs every test: formatting, lints, unit and integration tests (the real binary
# against SIPp), then the SIPp-in-Docker suite. SKIP_DOCKER=1 leaves the Docker suite out.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_DOCKER:-}" = 1 ]; then ./scripts/setup.sh; else ./scripts/setup.sh --docker; fi
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
if [ "${SKIP_DOCKER:-}" != 1 ]; then
  ./docker/run-tests.sh
fi
