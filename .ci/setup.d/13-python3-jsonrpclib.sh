#!/usr/bin/env bash
# jsonrpclib-pelix for the JSON-RPC interop tests (a real Python JSON-RPC 2.0 client,
# installed by Debian for /usr/bin/python3). Idempotent: installs only what is absent.
set -euo pipefail
. "$(dirname "$0")/../lib/apt.bash"

check() {
  /usr/bin/python3 -c 'import jsonrpclib, importlib.metadata as m
print("jsonrpclib-pelix", m.version("jsonrpclib-pelix"))'
}

step "jsonrpclib: install python3-jsonrpclib-pelix" apt_install python3-jsonrpclib-pelix
step "jsonrpclib: import jsonrpclib" check
