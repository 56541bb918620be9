#!/usr/bin/env bash
# Builds the published libraries (core, node, web, collaborator, tfjs) to dist/ and packs them as they
# would be published into the directory given (created if missing): openfl-connect-<name>-<v>.tgz.
set -euo pipefail
out="${1:?usage: pack-libraries.sh OUTDIR}"
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
for pkg in core node web collaborator tfjs; do
  pnpm --filter "@openfl-connect/$pkg" run build >/dev/null
  (cd "packages/$pkg" && pnpm pack --pack-destination "$out" >/dev/null)
done
