#!/usr/bin/env bash
# Every check: install what the tests need, then lint, type-check, build and run all tests.
# Lint and the type-check run beside the build (each is one mostly single-threaded process, and
# the machine has two cores); the tests start once the build is done (examples/test/packages.test.ts
# loads the built packages). Every check runs to the end, and the script fails if any failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/system-deps.sh shellcheck:shellcheck mkfs.xfs:xfsprogs mkfs.ext4:e2fsprogs chromium:chromium
bash scripts/pnpm.sh install --frozen-lockfile --reporter=silent

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
bash scripts/pnpm.sh lint >"$logs/lint" 2>&1 &
lint=$!
bash scripts/pnpm.sh typecheck >"$logs/typecheck" 2>&1 &
typecheck=$!

failed=()
bash scripts/pnpm.sh build >/dev/null || failed+=(build)
if [ ${#failed[@]} -eq 0 ]; then
  bash scripts/pnpm.sh test || failed+=(test)
fi
wait "$lint" || failed+=(lint)
wait "$typecheck" || failed+=(typecheck)
for check in lint typecheck; do
  if [[ " ${failed[*]} " == *" $check "* ]]; then
    echo "=== $check failed:" >&2
    cat "$logs/$check" >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "berth: failed: ${failed[*]}" >&2
  exit 1
fi
