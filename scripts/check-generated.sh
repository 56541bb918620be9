#!/usr/bin/env bash
# Fails if `buf generate` would change the committed generated code.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
cp -r packages/core/src/gen "$before/gen"
pnpm exec buf generate
if ! diff -r "$before/gen" packages/core/src/gen; then
  echo "Generated code is stale: run 'pnpm generate' and commit packages/core/src/gen." >&2
  exit 1
fi
echo "generated code: up to date"
