#!/usr/bin/env bash
# `npm run demo [-- flags]`: packages/demo (--openfl: OpenFL's real Aggregator; --with-dashboard:
# the browser dashboard too; --browser-collaborator: a browser tab in the rounds). Flags go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
# The dashboard goes through Envoy, which scripts/setup-python.sh installs into .venv/bin.
for arg in "$@"; do
  if [[ "$arg" == --with-dashboard || "$arg" == --browser-collaborator ]]; then
    bash scripts/setup-python.sh >&2
    break
  fi
done
exec pnpm --filter @openfl-connect/demo run demo "$@"
