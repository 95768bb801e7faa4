#!/usr/bin/env bash
# Debian's chromium for the browser tests (driven through puppeteer-core, which never
# downloads a browser). Idempotent: installs only what is absent; the check renders a
# data: URL headless and expects the DOM back.
set -euo pipefail
. "$(dirname "$0")/../lib/apt.bash"

check() {
  local profile dom
  profile=$(mktemp -d)
  dom=$(timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --dump-dom 'data:text/html,<p>hi</p>' 2>/dev/null) || true
  rm -rf "$profile"
  grep -q "<p>hi</p>" <<<"$dom" || { echo "chromium rendered nothing: $dom" >&2; return 1; }
  chromium --version 2>/dev/null
}

step "chromium: install chromium" apt_install chromium
step "chromium: headless --dump-dom" check
