#!/usr/bin/env bash
# Installs the system packages tapigw's tests need on Debian/Ubuntu: SIPp (sip-tester) for the
# integration tests; iproute2 for the fault tests; docker.io and debootstrap for the Docker suite (docker/run-tests.sh).
set -euo pipefail
need=()
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
# tests/faults.rs makes network namespaces and veth pairs with `ip` (and uses `tc netem` when the
# kernel has it).
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ "${1:-}" = "--docker" ]; then
  command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
fi
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo not found: install Rust (https://rustup.rs)" >&2; exit 1; }
