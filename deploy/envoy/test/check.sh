#!/usr/bin/env bash
# Generates the browser tests' Envoy config from deploy/envoy/envoy.yaml and checks it against
# Envoy's API schema with deploy/envoy/validate (Go), plus the generator's and JWT signer's unit
# tests. Envoy itself is not needed. Exit status: 0 all good.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$repo/packages/dashboard"
exec node --import tsx --test --test-reporter=spec e2e/envoy-config.spec.ts
