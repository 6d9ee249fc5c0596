#!/usr/bin/env bash
# Tests the Python package as a user gets it: a throwaway virtualenv, `pip install` of this
# folder plus pytest, then pytest against the real gateway binary and SIPp.
#
#   clients/python/run-tests.sh              # from anywhere; extra arguments go to pytest
#   TAPIGW_BIN=/path/to/tapigw clients/python/run-tests.sh -k resume
#
# The gateway binary is $TAPIGW_BIN when set; otherwise `cargo build` (a no-op when up to date)
# in the repository root and target/debug/tapigw; without cargo, an existing
# target/{debug,release}/tapigw. Installs python3-venv and sip-tester with apt-get when missing
# (Debian/Ubuntu).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
probe="$(mktemp -d)"
if ! python3 -m venv "$probe/venv" >/dev/null 2>&1; then need+=(python3-venv); fi
rm -rf "$probe"
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

if [ -z "${TAPIGW_BIN:-}" ]; then
  if command -v cargo >/dev/null 2>&1; then
    (cd "$root" && cargo build --quiet --bin tapigw)
    TAPIGW_BIN="$root/target/debug/tapigw"
  elif [ -x "$root/target/debug/tapigw" ]; then
    TAPIGW_BIN="$root/target/debug/tapigw"
  elif [ -x "$root/target/release/tapigw" ]; then
    TAPIGW_BIN="$root/target/release/tapigw"
  else
    echo "run-tests.sh: no tapigw binary and no cargo to build one (set TAPIGW_BIN)" >&2
    exit 1
  fi
fi
export TAPIGW_BIN
echo "python client tests: gateway $TAPIGW_BIN, $(python3 --version)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
# Install from a copy, so that the build leaves nothing behind in the repository.
mkdir "$work/pkg"
cp -r "$here/pyproject.toml" "$here/README.md" "$here/src" "$work/pkg/"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$work/pkg" pytest
cd "$here"
# The installed package is what gets tested: tests/ is on the path, src/ is not.
exec "$work/venv/bin/python" -m pytest -p no:cacheprovider -q tests "$@"
