#!/usr/bin/env bash
# Builds and packs the libraries (core, node, web, collaborator, tfjs) as they would be published, checks each with
# `npm publish --dry-run`, installs the tarballs into an empty project with npm (peer dependencies
# come from the registry), and runs scripts/package-smoke.mjs there with plain Node.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# npm test packs once for this check and the packed-install benchmark (PACKED_LIBRARIES_DIR).
if [ -n "${PACKED_LIBRARIES_DIR:-}" ]; then
  cp "$PACKED_LIBRARIES_DIR"/openfl-connect-*.tgz "$out"/
else
  bash scripts/pack-libraries.sh "$out"
fi
for tarball in "$out"/openfl-connect-*.tgz; do
  report=$(npm publish --dry-run --access public "$tarball" 2>&1) || {
    echo "check-packages: npm publish --dry-run refused $tarball:" >&2
    echo "$report" >&2
    exit 1
  }
  for expected in "LICENSE" "dist/index.d.ts" "^[+] @openfl-connect/"; do
    grep -qE "$expected" <<<"$report" || {
      echo "check-packages: $tarball lacks $expected:" >&2
      echo "$report" >&2
      exit 1
    }
  done
  grep -E "^\+ @openfl-connect/" <<<"$report"
done
mkdir "$out/app"
cp scripts/package-smoke.mjs "$out/app/"
cd "$out/app"
echo '{ "name": "smoke", "private": true, "type": "module" }' > package.json
# tfjs takes TF.js as peers; the application picks a backend (here the CPU one, from npm).
npm install --no-audit --no-fund --loglevel=error "$out"/openfl-connect-*.tgz @tensorflow/tfjs-backend-cpu@4.22.0
# One copy of core and of connect, shared by node and web (peer dependencies).
test "$(find node_modules -path '*/@openfl-connect/core/package.json' | wc -l)" -eq 1
test "$(find node_modules -path '*/@connectrpc/connect/package.json' | wc -l)" -eq 1
node package-smoke.mjs
# The collaborator CLI is compiled JavaScript: it runs on plain Node, no TypeScript loader.
./node_modules/.bin/openfl-collaborator --help | grep -q -- "--config"
echo "packed openfl-collaborator CLI runs under plain Node"
# From an OpenFL workspace, run from another directory: the packed CLI merges the plan's
# defaults from the OpenFL 1.9 files it ships (openfl-plan-defaults/) and derives the uuids.
ws="$out/workspace"
mkdir -p "$ws/plan" "$ws/cert/client"
cat > "$ws/plan/plan.yaml" <<'EOF'
aggregator:
  defaults: plan/defaults/aggregator.yaml
  template: openfl.component.Aggregator
  settings:
    rounds_to_train: 1
collaborator:
  defaults: plan/defaults/collaborator.yaml
  template: openfl.component.Collaborator
network:
  defaults: plan/defaults/network.yaml
EOF
printf 'collaborators:\n  - col1\n' > "$ws/plan/cols.yaml"
printf 'col1,data/col1.csv\n' > "$ws/plan/data.yaml"
touch "$ws/cert/cert_chain.crt" "$ws/cert/client/col_col1.crt" "$ws/cert/client/col_col1.key"
shown=$(cd / && "$out/app/node_modules/.bin/openfl-collaborator" plan show -n col1 --workspace "$ws")
grep -qE '^federation uuid +plan\.yaml_[0-9a-f]{8} ' <<<"$shown"
grep -q 'node_modules/@openfl-connect/collaborator/openfl-plan-defaults/plan/defaults/network.yaml' <<<"$shown"
echo "packed openfl-collaborator reads an OpenFL workspace from any directory (plan show)"
# The tfjs CLI writes OpenFL's initial model file from the packed example model.
./node_modules/.bin/openfl-tfjs init-model --model node_modules/@openfl-connect/tfjs/dist/examples/digits-cnn.js --out init.pbuf | grep -q "^wrote init.pbuf: 6 tensors"
./node_modules/.bin/openfl-tfjs check-model --model node_modules/@openfl-connect/tfjs/dist/examples/digits-cnn.js --file init.pbuf
echo "packed openfl-tfjs CLI runs under plain Node"
