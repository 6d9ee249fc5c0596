#!/usr/bin/env bash
# SIPp-in-Docker suite: builds the gateway and SIPp images and runs four scenarios in
# containers on the host network (127.0.0.1): outbound answered call, outbound busy, inbound
# answered call, registration with digest. Exit 0 only when every SIPp container succeeded and
# the app (examples/drive, run on the host) saw the expected TAPI messages.
#
# Works without a container registry: when `docker pull debian:bookworm-slim` fails, the base
# image is made with debootstrap + docker import, and the gateway image is built from the binary
# built on the host (Dockerfile target host-binary). Starts its own dockerd (own --data-root in a
# temp dir) when none is running, and stops only what it started.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/tapigw-docker.XXXXXX)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/tapigw
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
GW_IMAGE=tapigw:test
SIPP_IMAGE=tapigw-sipp:test
STARTED_DOCKERD=""
CONTAINERS=()
PIDS=()

log() { printf '\n== %s\n' "$*"; }

cleanup() {
  set +e
  for c in "${CONTAINERS[@]}"; do docker rm -f "$c" >/dev/null 2>&1; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  if [ -n "$STARTED_DOCKERD" ]; then
    kill "$(cat "$WORK/docker.pid")" 2>/dev/null
    for _ in $(seq 50); do [ -e "$WORK/docker.pid" ] || break; sleep 0.2; done
    umount -R "$WORK/data" 2>/dev/null
  fi
  rm -rf "$WORK" 2>/dev/null
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1 || { echo "missing $1: apt-get install $2" >&2; exit 1; }; }

ensure_dockerd() {
  need docker docker.io
  if docker info >/dev/null 2>&1; then return; fi
  need dockerd docker.io
  log "starting a private dockerd in $WORK"
  export DOCKER_HOST="unix://$WORK/docker.sock"
  dockerd --data-root "$WORK/data" --exec-root "$WORK/exec" --pidfile "$WORK/docker.pid" \
    --host "$DOCKER_HOST" --iptables=false --bridge=none >"$WORK/dockerd.log" 2>&1 &
  STARTED_DOCKERD=1
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && return; sleep 0.5; done
  cat "$WORK/dockerd.log" >&2
  echo "dockerd did not start" >&2
  exit 1
}

# Prints the base image to use: the registry's Debian slim, or a local debootstrap import.
base_image() {
  if docker image inspect debian:bookworm-slim >/dev/null 2>&1 ||
     timeout 60 docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
    echo debian:bookworm-slim
    return
  fi
  local tarball="$CACHE/debian-bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    need debootstrap debootstrap
    mkdir -p "$CACHE"
    echo "no registry: building the base image with debootstrap ($MIRROR)" >&2
    debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
      { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }
    # What a slim image leaves out: docs, man pages, locales, apt caches.
    rm -rf "$WORK"/rootfs/usr/share/{doc,man,info,locale}/* "$WORK"/rootfs/var/lib/apt/lists/* \
      "$WORK"/rootfs/var/cache/apt/*.bin "$WORK"/rootfs/var/cache/apt/archives/*.deb
    tar -C "$WORK/rootfs" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
    rm -rf "$WORK/rootfs"
  fi
  docker import "$tarball" tapigw-base:bookworm >/dev/null
  echo tapigw-base:bookworm
}

build_images() {
  log "building the gateway binary and the test driver on the host"
  (cd "$ROOT" && cargo build --release --bin tapigw --example drive)
  strip -o "$ROOT/target/release/tapigw-stripped" "$ROOT/target/release/tapigw"
  local base
  base=$(base_image)
  log "building $GW_IMAGE (target host-binary, base $base)"
  docker build -q -f "$ROOT/docker/Dockerfile" --target host-binary \
    --build-arg DEBIAN_IMAGE="$base" --build-arg BINARY=target/release/tapigw-stripped \
    -t "$GW_IMAGE" "$ROOT" >/dev/null
  log "building $SIPP_IMAGE"
  docker build -q --network host --build-arg DEBIAN_IMAGE="$base" -t "$SIPP_IMAGE" "$ROOT/docker/sipp" >/dev/null
}

free_port() {
  python3 -c 'import socket
while True:
    u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("127.0.0.1",0)); p=u.getsockname()[1]
    t=socket.socket(); 
    try:
        t.bind(("127.0.0.1",p)); print(p); break
    except OSError: pass'
}

# gateway NAME SIP API LINE_TOML: starts the gateway container and waits until it is healthy.
gateway() {
  local name=$1 sip=$2 api=$3 line=$4
  cat >"$WORK/$name.toml" <<TOML
[sip]
listen = "127.0.0.1:$sip"
[api]
listen = "127.0.0.1:$api"
[media]
mode = "rtp"
address = "127.0.0.1"
port_min = 30000
port_max = 30999
$line
TOML
  chmod 644 "$WORK/$name.toml"
  CONTAINERS+=("$name")
  docker run -d --name "$name" --network host \
    -e TAPIGW__SIP__LISTEN="127.0.0.1:$sip" -e TAPIGW__API__LISTEN="127.0.0.1:$api" \
    -v "$WORK/$name.toml:/etc/tapigw/tapigw.toml:ro" "$GW_IMAGE" >/dev/null
  for _ in $(seq 100); do
    docker exec "$name" tapigw --healthcheck "127.0.0.1:$api" >/dev/null 2>&1 && return
    sleep 0.2
  done
  docker logs "$name" >&2
  echo "gateway $name did not become healthy" >&2
  return 1
}

# sipp NAME ARGS...: starts a SIPp container (scenarios mounted read-only at /scenarios).
sipp_container() {
  local name=$1; shift
  CONTAINERS+=("$name")
  docker run -d --name "$name" --network host -v "$ROOT/tests/sipp:/scenarios:ro" \
    -v "$WORK/scenarios:/generated:ro" "$SIPP_IMAGE" \
    -i 127.0.0.1 -nostdin -trace_err -timeout 30s -timeout_error "$@" >/dev/null
}

# expect_sipp_ok NAME: waits for the SIPp container and checks its exit code.
expect_sipp_ok() {
  local rc
  rc=$(timeout 60 docker wait "$1")
  if [ "$rc" != 0 ]; then
    echo "SIPp container $1 exited $rc" >&2
    docker logs "$1" 2>&1 | tail -20 >&2
    return 1
  fi
  echo "SIPp $1: success"
}

line_toml() { # proxy_port [extra]
  printf '[[lines]]\nuser = "1001"\ndomain = "127.0.0.1"\nproxy = "127.0.0.1:%s"\n%s\n' "$1" "${2:-}"
}

DRIVE="$ROOT/target/release/examples/drive"

scenario_outbound() { # name scenario expect
  local sip api prov
  sip=$(free_port); api=$(free_port); prov=$(free_port)
  sipp_container "$1-provider" -sf "$2" -p "$prov" -m 1
  gateway "$1-gw" "$sip" "$api" "$(line_toml "$prov")"
  "$DRIVE" --api "127.0.0.1:$api" outbound 1002 "$3"
  expect_sipp_ok "$1-provider"
  docker stop -t 10 "$1-gw" >/dev/null
}

scenario_inbound() {
  local sip api out
  sip=$(free_port); api=$(free_port); out="$WORK/inbound-drive.log"
  gateway inbound-gw "$sip" "$api" "$(line_toml "$(free_port)")"
  "$DRIVE" --api "127.0.0.1:$api" inbound >"$out" 2>&1 &
  local drive=$!
  PIDS+=("$drive")
  for _ in $(seq 100); do grep -q "waiting for a call" "$out" && break; sleep 0.1; done
  sipp_container inbound-caller "127.0.0.1:$sip" -sf /scenarios/uac_call_caller_hangs_up.xml -s 1001 -m 1 -d 500
  expect_sipp_ok inbound-caller
  wait "$drive" || { cat "$out"; return 1; }
  cat "$out"
  docker stop -t 10 inbound-gw >/dev/null
}

scenario_registration() {
  local sip api reg
  sip=$(free_port); api=$(free_port); reg=$(free_port)
  sipp_container registrar -sf /scenarios/uas_register_digest.xml -p "$reg" -m 1 -deadcall_wait 0
  gateway registration-gw "$sip" "$api" \
    "$(line_toml "$reg" 'register = true
expires = 60
auth_user = "1001"
password = "secret"')"
  "$DRIVE" --api "127.0.0.1:$api" registered
  docker stop -t 10 registration-gw >/dev/null   # graceful stop: un-REGISTER
  expect_sipp_ok registrar
}

main() {
  need python3 python3
  ensure_dockerd
  build_images
  log "image sizes"
  docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^tapigw" || true
  mkdir -p "$WORK/scenarios"
  sed 's/@STATUS@/486/; s/@PROVISIONAL@/180 Ringing/' "$ROOT/tests/sipp/uas_reject.xml" >"$WORK/scenarios/uas_busy.xml"
  chmod -R a+rX "$WORK/scenarios"
  log "scenario: outbound call, answered"
  scenario_outbound answered /scenarios/uas_answer_gw_hangs_up.xml connected
  log "scenario: outbound call, busy"
  scenario_outbound busy /generated/uas_busy.xml busy
  log "scenario: inbound call, answered";   scenario_inbound
  log "scenario: registration with digest";  scenario_registration
  log "all Docker scenarios passed"
}

main "$@"
