#!/usr/bin/env bash
# Browser end-to-end tests: the dashboard in Chromium -> gRPC-web proxy -> reference aggregator
# (mTLS). The proxy is Envoy with a test config derived from deploy/envoy/envoy.yaml (TLS,
# jwt_authn with a test key; packages/dashboard/e2e/envoy-config.ts) when E2E_PROXY=envoy or
# `envoy` is on PATH, else grpcwebproxy. Idempotent set-up: Chromium from Debian (Playwright's own browser download does not
# work here), grpcwebproxy built with Go (scripts/setup-proxy.sh), the dashboard built with Vite.
# Screenshots and traces: test-results/e2e/; HTML report: playwright-report/.
#
# Usage: bash scripts/test-browser.sh [playwright test args...]
# Env:   CHROMIUM_PATH (default /usr/bin/chromium);
#        E2E_PROXY=envoy|grpcwebproxy picks the proxy (default: envoy if on PATH).
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

proxy="${E2E_PROXY:-}"
if [[ -z "$proxy" ]]; then
  if command -v envoy >/dev/null 2>&1; then proxy=envoy; else proxy=grpcwebproxy; fi
fi
echo "test-browser: gRPC-web proxy: $proxy" >&2
if [[ "$proxy" == envoy ]]; then
  command -v envoy >/dev/null 2>&1 || { echo "test-browser: E2E_PROXY=envoy but envoy is not on PATH" >&2; exit 1; }
else
  bash scripts/setup-proxy.sh >/dev/null
fi
# The OpenFL-server specs need the venv with openfl==1.9.
bash scripts/setup-python.sh

pnpm() { npx -y pnpm@12.4.2 "$@"; }
pnpm --filter @openfl-connect/dashboard run build

# @playwright/test is a devDependency of the dashboard, so run its CLI from there with the
# repo-root config.
pnpm --filter @openfl-connect/dashboard exec playwright test --config "$repo/playwright.config.ts" "$@"
