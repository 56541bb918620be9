#!/usr/bin/env bash
# Fault-injection suite of @openfl-connect/evidence: seeded resets/stalls/corruption between the
# Node client and the reference aggregator, aggregator restarts, CA rotation, garbage servers,
# oversized messages, invalid options. Repeat a run with FAULT_SEED=<printed seed>.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
pnpm --filter @openfl-connect/evidence run test
