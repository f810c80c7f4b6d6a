#!/usr/bin/env bash
# Runs the pinned pnpm, installing it from the npm registry into .tools/ on first use.
# (corepack's signature check fails on these machines, so corepack is not used.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="$(node -p "require('$root/package.json').packageManager.split('@')[1]")"
bin="$root/.tools/node_modules/.bin/pnpm"
if [ ! -x "$bin" ] || [ "$("$bin" --version 2>/dev/null)" != "$version" ]; then
  echo "berth: installing pnpm $version into .tools/ (from the npm registry)" >&2
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$root/.tools" "pnpm@$version" >&2
fi
# Scripts that call pnpm again (pnpm -r ...) find the same one.
export PATH="$root/.tools/node_modules/.bin:$PATH"
exec "$bin" "$@"
