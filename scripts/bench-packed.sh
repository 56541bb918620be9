#!/usr/bin/env bash
# The packed libraries (npm install of the tarballs) against the workspace: a 64 MiB download from
# OpenFL's real server, 2 each, side by side (packages/evidence/src/bench/packed-vs-workspace.ts).
# A report, not a timed assertion; it fails only when a download fails. Flags: --mib N --reps N.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
bash scripts/setup-python.sh >/dev/null
cd packages/evidence
node --import tsx src/bench/packed-vs-workspace.ts "$@"
