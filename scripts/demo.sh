#!/usr/bin/env bash
# The main job: install everything, then roll a simulated 5-node cluster with live progress.
# Extra arguments go to the demo (e.g. --seed 7 --nodes 9 --profile fast --no-kill).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/pnpm.sh install --frozen-lockfile --reporter=silent
bash scripts/pnpm.sh --silent demo "$@"
