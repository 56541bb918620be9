#!/usr/bin/env bash
# Builds and packs the libraries (core, node, web) as they would be published, installs the
# tarballs into an empty project with npm, and runs scripts/package-smoke.mjs there with plain Node.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for pkg in core node web; do
  pnpm --filter "@openfl-connect/$pkg" run build
  (cd "packages/$pkg" && pnpm pack --pack-destination "$out" >/dev/null)
done
mkdir "$out/app"
cp scripts/package-smoke.mjs "$out/app/"
cd "$out/app"
echo '{ "name": "smoke", "private": true, "type": "module" }' > package.json
npm install --no-audit --no-fund --loglevel=error "$out"/openfl-connect-*.tgz @connectrpc/connect-node@2.3.0
node package-smoke.mjs
