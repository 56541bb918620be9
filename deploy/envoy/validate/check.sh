#!/usr/bin/env bash
# Schema check of the Envoy config against Envoy's own API definitions (go-control-plane).
#   1. go test: the good configs pass and every testdata/bad variant fails for its stated reason;
#   2. validate deploy/envoy/envoy.yaml (or the files given as arguments).
# Needs Go >= 1.26 (see go.mod); modules come from the Go module proxy on first use.
# Exit status: 0 all good, non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"

go test -count=1 ./...

bin="$(mktemp -d)/envoy-validate"
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" .
if [[ $# -gt 0 ]]; then
  "$bin" "$@"
else
  "$bin" ../envoy.yaml
fi
