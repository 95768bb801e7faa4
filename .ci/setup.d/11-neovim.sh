#!/usr/bin/env bash
# Neovim and pynvim for the msgpack-rpc interop tests: Neovim is a real msgpack-rpc peer (it
# calls us back), pynvim a real client library. Debian installs pynvim for /usr/bin/python3.
# Idempotent: installs only what is absent; the check starts one headless nvim on a free
# loopback port, asks it for its version through pynvim, and stops it again.
set -euo pipefail
. "$(dirname "$0")/../lib/apt.bash"

check() {
  /usr/bin/python3 - <<'PY'
import socket, subprocess, time
import pynvim
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
nvim = subprocess.Popen(["nvim", "--headless", "--clean", "--listen", f"127.0.0.1:{port}"],
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
try:
    deadline = time.monotonic() + 15
    while True:
        try:
            api = pynvim.attach("tcp", address="127.0.0.1", port=port)
            break
        except OSError:
            if time.monotonic() > deadline: raise
            time.sleep(0.05)
    info = api.api.get_api_info()[1]["version"]
    api.close()
    print(f"nvim {info['major']}.{info['minor']}.{info['patch']} answered on 127.0.0.1:{port}, "
          f"pynvim {pynvim.VERSION.major}.{pynvim.VERSION.minor}.{pynvim.VERSION.patch}")
finally:
    nvim.terminate()
    nvim.wait(10)
PY
}

step "neovim: install neovim python3-pynvim" apt_install neovim python3-pynvim
step "neovim: headless nvim answers pynvim" check
