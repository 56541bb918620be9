#!/usr/bin/env bash
# Wire-compatibility tests against the REAL OpenFL 1.9 (Python): our Node client against
# OpenFL's AggregatorGRPCServer, and OpenFL's AggregatorGRPCClient against our reference
# aggregator, all over mutual TLS. Idempotent: creates or reuses <repo>/.venv (openfl==1.9,
# see scripts/setup-python.sh; ~45 s the first time, instant after), then runs the suite in
# packages/interop. Needs python3 (3.10-3.12), openssl and the node packages installed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

bash scripts/setup-python.sh
pnpm --filter @openfl-connect/interop run test:interop
pnpm --filter @openfl-connect/collaborator run test:interop
