#!/usr/bin/env bash
# The Node peers of `deno task bench` (scripts/bench/peers: jayson, npm xmlrpc, msgpack5rpc,
# @grpc/grpc-js, msgpackr for the msgpack-rpc load generator), pinned by its package-lock.json.
# tests/bench/ drives the load generator against a real server. Idempotent: `npm ci` runs only
# when a locked package is missing.
set -euo pipefail
dir="$(dirname "$0")/../../scripts/bench/peers"
if [ -d "$dir/node_modules/msgpackr" ] && [ -d "$dir/node_modules/@grpc/grpc-js" ]; then
  echo "bench peers: already installed"
  exit 0
fi
npm ci --silent --no-audit --no-fund --prefix "$dir" || { echo "npm ci in scripts/bench/peers failed"; exit 1; }
echo "bench peers: installed"
