#!/usr/bin/env bash
# Node.js 20 or newer, which runs the bundled client in tests/distribution/node_client_test.ts.
# Idempotent: installs Debian's nodejs only when there is no node at all, then checks the
# version (Debian 12's own nodejs is 18: CI images bring a newer one, e.g. NodeSource's).
set -euo pipefail
. "$(dirname "$0")/../lib/apt.bash"

check() {
  node -e "process.exit(Number(process.versions.node.split('.')[0]) >= 20 ? 0 : 1)" ||
    { echo "node $(node --version) is older than 20" >&2; return 1; }
  node --version
}

command -v node >/dev/null || step "node: install nodejs" apt_install nodejs
step "node: version 20 or newer" check
