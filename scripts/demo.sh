#!/usr/bin/env bash
# `npm run demo [-- flags]`: with --openfl, the mixed federation on OpenFL's real Aggregator
# (packages/interop/src/openfl-demo.ts); otherwise the reference-aggregator demo
# (packages/collaborator/src/demo.ts). Flags go to the demo that runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
for arg in "$@"; do
  if [ "$arg" = "--openfl" ]; then
    exec pnpm --filter @openfl-connect/interop run demo "$@"
  fi
done
exec pnpm --filter @openfl-connect/collaborator run demo "$@"
