#!/usr/bin/env bash
# Sets up and runs every test: unit tests, integration tests against the real binary with SIPp,
# formatting and lints.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
