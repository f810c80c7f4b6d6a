#!/usr/bin/env bash
# Every check: install what the tests need, then lint, type-check, build and run all tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/system-deps.sh shellcheck:shellcheck mkfs.xfs:xfsprogs mkfs.ext4:e2fsprogs chromium:chromium
bash scripts/pnpm.sh install --frozen-lockfile --reporter=silent
bash scripts/pnpm.sh lint
bash scripts/pnpm.sh typecheck
bash scripts/pnpm.sh build >/dev/null
bash scripts/pnpm.sh test
