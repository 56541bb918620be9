#!/usr/bin/env bash
# Installs the gRPC-web proxy used by the browser tests when Envoy is not installed:
# improbable-eng's grpcwebproxy, built from its Go module through the Go module proxy
# into a repo-local bin dir (<repo>/.cache/bin, ignored by git). Idempotent: if the
# binary is already there and runs, nothing is rebuilt.
#
# Usage: scripts/setup-proxy.sh        -> prints the absolute path of the binary on stdout
# Env:   GRPCWEBPROXY_VERSION (default v0.15.0), FORCE=1 to rebuild.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
version="${GRPCWEBPROXY_VERSION:-v0.15.0}"
bindir="$repo/.cache/bin"
bin="$bindir/grpcwebproxy"
stamp="$bindir/.grpcwebproxy.version"

if ! command -v go >/dev/null 2>&1; then
  echo "setup-proxy: the Go toolchain (go) is required to build grpcwebproxy" >&2
  exit 1
fi

# grpcwebproxy --help prints its usage and exits non-zero (pflag's ErrHelp), so judge by the text.
works() {
  local out
  out="$("$bin" --help 2>&1 || true)"
  [[ "$out" == *--backend_addr* ]]
}

if [[ "${FORCE:-0}" != 1 && -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]] && works; then
  echo "setup-proxy: grpcwebproxy $version already built" >&2
  echo "$bin"
  exit 0
fi

mkdir -p "$bindir"
echo "setup-proxy: building grpcwebproxy $version into $bindir ..." >&2
start=$(date +%s)
# `go install pkg@version` builds in module mode from the Go module proxy, ignoring any go.mod
# around it. CGO is not needed (pure Go).
GOBIN="$bindir" CGO_ENABLED=0 go install "github.com/improbable-eng/grpc-web/go/grpcwebproxy@$version" >&2
echo "$version" >"$stamp"
works || { echo "setup-proxy: built $bin but it does not run" >&2; exit 1; }
echo "setup-proxy: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
