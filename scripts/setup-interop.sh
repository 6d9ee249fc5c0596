#!/usr/bin/env bash
# Installs the real SIP peers of the interop suite (cargo test --test interop) on Debian/Ubuntu:
# Kamailio (registrar and proxy; kamcmd comes with it) and baresip-core (the far-end phone,
# without the GTK/X11 front-ends of the `baresip` metapackage). Non-interactive; does nothing
# when both are present. The suite runs its own Kamailio on ports chosen at run time, so the
# system-wide kamailio service that the Debian package enables and starts on 5060 is kept from
# starting, and stopped and disabled if it runs (5060 is also the gateway's default port).
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need=()
command -v kamailio >/dev/null 2>&1 && command -v kamcmd >/dev/null 2>&1 || need+=(kamailio)
command -v baresip >/dev/null 2>&1 || need+=(baresip-core)

if [ ${#need[@]} -gt 0 ]; then
  # Keep the packages' maintainer scripts from starting services while installing (invoke-rc.d
  # and deb-systemd-invoke honour policy-rc.d); an existing policy (containers) is left alone.
  policy=/usr/sbin/policy-rc.d
  made_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    made_policy=1
  fi
  cleanup() { [ -z "$made_policy" ] || $SUDO rm -f "$policy"; }
  trap cleanup EXIT
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  cleanup
  trap - EXIT
fi

# No system-wide Kamailio: stop and disable the packaged service wherever it could run.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  if systemctl is-enabled --quiet kamailio 2>/dev/null || systemctl is-active --quiet kamailio 2>/dev/null; then
    $SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true
  fi
elif [ -x /etc/init.d/kamailio ]; then
  $SUDO /etc/init.d/kamailio stop >/dev/null 2>&1 || true
  command -v update-rc.d >/dev/null 2>&1 && $SUDO update-rc.d kamailio disable >/dev/null 2>&1 || true
fi
# A service instance started some other way still has the service's pid file.
pidfile=/run/kamailio/kamailio.pid
if [ -s "$pidfile" ]; then
  pid=$(cat "$pidfile")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    $SUDO kill "$pid" || true
  fi
fi

for tool in kamailio kamcmd baresip; do
  command -v "$tool" >/dev/null 2>&1 || { echo "setup-interop: $tool missing after install" >&2; exit 1; }
done
kamailio -v | head -1
{ baresip -h 2>&1 || true; } | head -1
