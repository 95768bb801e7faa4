#!/usr/bin/env bash
# websockets for the JSON-RPC-over-WebSocket interop test (a real Python WebSocket client,
# installed by Debian for /usr/bin/python3). Idempotent: installs only what is absent.
set -euo pipefail
. "$(dirname "$0")/../lib/apt.bash"

check() {
  /usr/bin/python3 -c 'import websockets; print("websockets", websockets.__version__)'
}

step "websockets: install python3-websockets" apt_install python3-websockets
step "websockets: import websockets" check
