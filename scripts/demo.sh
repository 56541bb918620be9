#!/usr/bin/env bash
# `npm run demo [-- flags]`: packages/demo (--openfl: OpenFL's real Aggregator; --with-dashboard:
# the browser dashboard too). Flags go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
exec pnpm --filter @openfl-connect/demo run demo "$@"
