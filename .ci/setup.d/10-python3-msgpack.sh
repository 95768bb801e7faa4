#!/usr/bin/env bash
# python3-msgpack for the msgpack-rpc interop tests (a raw msgpack-rpc client we did not
# write). Debian installs it for /usr/bin/python3, which the tests use.
set -euo pipefail
if /usr/bin/python3 -c "import msgpack" 2>/dev/null; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache policy python3-msgpack 2>/dev/null | grep -q "Candidate: [0-9]"; then
  apt-get update -qq >/dev/null
fi
apt-get install -y -qq --no-install-recommends python3-msgpack >/dev/null 2>&1 ||
  { echo "apt-get install python3-msgpack failed"; exit 1; }
/usr/bin/python3 -c "import msgpack"
