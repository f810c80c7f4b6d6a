#!/usr/bin/env bash
# Debian packages the tests use. Installs only what is missing; needs root (CI runs as root).
set -euo pipefail
need=()
for pair in "$@"; do need+=("$pair"); done
missing=()
for pair in "${need[@]}"; do
  cmd="${pair%%:*}"; pkg="${pair##*:}"
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "berth: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
