# Sourced by .ci/setup.d scripts (not run by .ci/run: it globs *.sh only).
# apt_install PKG...: installs the Debian packages that are not installed yet, without
# recommends. Nothing is downloaded when all are present; the package lists are refreshed
# only when a package has no candidate or the install fails (stale lists on a fresh image).
# DPkg::Lock::Timeout waits for another apt run instead of failing on its lock.

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -qq --no-install-recommends -o DPkg::Lock::Timeout=600)

# Prints the packages among "$@" that dpkg does not report as installed.
apt_missing() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || echo "$pkg"
  done
}

apt_install() {
  local missing
  mapfile -t missing < <(apt_missing "$@")
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "already installed"
    return 0
  fi
  local pkg
  for pkg in "${missing[@]}"; do
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q "Candidate: [0-9]"; then
      apt-get update -qq -o DPkg::Lock::Timeout=600 >/dev/null || return 1
      break
    fi
  done
  if ! apt-get install "${APT_OPTS[@]}" "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq -o DPkg::Lock::Timeout=600 >/dev/null || return 1
    apt-get install "${APT_OPTS[@]}" "${missing[@]}" >/dev/null || return 1
  fi
  echo "installed ${missing[*]}"
}

# step NAME CMD...: runs one step and prints one line: "NAME: <its last output line> (Ns)",
# or "NAME: FAILED (Ns)" and its output on stderr.
step() {
  local name=$1 start=$SECONDS out
  shift
  if out=$("$@" 2>&1); then
    echo "$name: $(tail -n1 <<<"${out:-ok}") ($((SECONDS - start))s)"
  else
    echo "$name: FAILED ($((SECONDS - start))s)" >&2
    [ -z "$out" ] || echo "$out" >&2
    return 1
  fi
}
