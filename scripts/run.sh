#!/usr/bin/env bash
# Sets up and runs the gateway on config/default.toml (or the config given as $1).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec cargo run --release -- --config "${1:-config/default.toml}"
