#!/usr/bin/env bash
# wrk, the native HTTP load generator of `deno task bench` (scripts/bench/wrk.ts): with it the
# JSON-RPC and XML-RPC cells are driven from another core by a client far cheaper per request
# than the server it measures. Idempotent: installs Debian's wrk only when it is absent.
set -euo pipefail
. "$(dirname "$0")/../lib/apt.bash"

# `wrk --version` prints its version and exits 1.
check() {
  command -v wrk >/dev/null || return 1
  { wrk --version 2>&1 || true; } | head -n1 | cut -d' ' -f1-2
}

command -v wrk >/dev/null || step "wrk: install wrk" apt_install wrk
step "wrk: version" check
