#!/usr/bin/env bash
# Prometheus (the metrics tests scrape a running server with it) and Chromium (the explorer
# page is tested in a real browser). The tests start their own Prometheus, so the
# service the package starts is stopped and disabled.
set -euo pipefail
need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v chromium >/dev/null || need+=(chromium)
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
fi
service prometheus stop >/dev/null 2>&1 || true
