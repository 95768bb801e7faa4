#!/usr/bin/env bash
# The prometheus binary for the metrics tests, which start their own server on a free port.
# Debian's postinst would start a system service on :9090: a policy-rc.d denies service
# starts during the install, and any running or enabled service is stopped and disabled
# afterwards. Idempotent: installs only what is absent.
set -euo pipefail
. "$(dirname "$0")/../lib/apt.bash"

install() {
  local policy=/usr/sbin/policy-rc.d own=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own=1
  fi
  local status=0
  apt_install prometheus || status=$?
  [ "$own" = 1 ] && rm -f "$policy"
  return "$status"
}

quiet_service() {
  if [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
  if [ -x /etc/init.d/prometheus ]; then
    /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
  # The init script's pidfile names the service's process, if one is left.
  local pidfile=/run/prometheus/prometheus.pid
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")" || true
    sleep 1
    ! kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "prometheus service still runs" >&2; return 1; }
  fi
  echo "no prometheus service running"
}

step "prometheus: install prometheus" install
step "prometheus: service stopped and disabled" quiet_service
step "prometheus: --version" bash -c 'prometheus --version 2>&1 | head -1'
