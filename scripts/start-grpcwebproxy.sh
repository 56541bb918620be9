#!/usr/bin/env bash
# Starts improbable-eng's grpcwebproxy as the test stand-in for deploy/envoy/envoy.yaml: plain
# HTTP gRPC-web for browsers on loopback -> gRPC over TLS with a client certificate to the
# aggregator. Builds the proxy first if needed (scripts/setup-proxy.sh).
#
# FOR TESTS ONLY. Unlike the Envoy config it has no user authentication and no TLS towards the
# browser, so it binds to 127.0.0.1 by default: anything that can reach it acts as the
# collaborator whose certificate it holds (the aggregator checks that certificate's CN against
# the collaborator name in each request).
#
# Usage:
#   scripts/start-grpcwebproxy.sh --backend HOST:PORT --ca FILE --cert FILE --key FILE \
#       --origin URL --port N [options]
#
# Required (each also settable by the environment variable in brackets):
#   --backend HOST:PORT   aggregator address                          [GWP_BACKEND]
#                         HOST must be a name (or IP) in the aggregator certificate's SAN:
#                         grpcwebproxy verifies the certificate against HOST and has no
#                         separate TLS server-name option (--backend_default_authority only
#                         changes :authority, not the name checked). Tests: use localhost.
#   --ca FILE             federation CA chain to verify the aggregator [GWP_CA]
#                         (OpenFL workspace: cert/cert_chain.crt)
#   --cert FILE           collaborator client certificate; its CN is  [GWP_CERT]
#                         the collaborator name the browser must send
#   --key FILE            that certificate's private key              [GWP_KEY]
#   --origin URL          the one browser origin allowed by CORS,     [GWP_ORIGIN]
#                         e.g. http://localhost:5173 (comma-separate several)
#   --port N              HTTP port browsers connect to               [GWP_PORT]
# Optional:
#   --bind ADDR           listen address (default 127.0.0.1)          [GWP_BIND]
#   --timeout DUR         HTTP read and write timeout, whole request   [GWP_TIMEOUT]
#                         (default 1h; Go's http.Server counts the whole body, so this must
#                         cover the slowest 1 GiB upload; 0s = none)
#   --max-msg BYTES       largest response message from the aggregator [GWP_MAX_MSG]
#                         (default 1207959552 = 1 GiB + 128 MiB; OpenFL's limit is 1 GiB)
#   --background LOGFILE  start in the background with output to LOGFILE, wait until the port
#                         accepts connections (up to 30 s), print the PID on stdout and exit;
#                         the caller stops it with: kill <PID>
# Without --background the proxy runs in the foreground (exec), so the caller's PID is its PID.
#
# What mirrors deploy/envoy/envoy.yaml:
#   CORS: only --origin; methods POST/OPTIONS; request headers exactly content-type, x-grpc-web,
#   x-user-agent, grpc-timeout, authorization (grpcwebproxy forwards these to the aggregator as
#   metadata; OpenFL ignores metadata); grpc-status/grpc-message exposed. Upstream: TLS with the
#   collaborator's client certificate, verified against --ca. No overall deadline beyond
#   --timeout; messages up to --max-msg.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

backend="${GWP_BACKEND:-}"
ca="${GWP_CA:-}"
cert="${GWP_CERT:-}"
key="${GWP_KEY:-}"
origin="${GWP_ORIGIN:-}"
port="${GWP_PORT:-}"
bind="${GWP_BIND:-127.0.0.1}"
timeout="${GWP_TIMEOUT:-1h}"
max_msg="${GWP_MAX_MSG:-1207959552}"
background=""

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --backend) backend="$2"; shift 2 ;;
    --ca) ca="$2"; shift 2 ;;
    --cert) cert="$2"; shift 2 ;;
    --key) key="$2"; shift 2 ;;
    --origin) origin="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --bind) bind="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --max-msg) max_msg="$2"; shift 2 ;;
    --background) background="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "start-grpcwebproxy: unknown argument: $1" >&2; usage ;;
  esac
done

missing=()
for v in backend ca cert key origin port; do
  [[ -n "${!v}" ]] || missing+=("--$v")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "start-grpcwebproxy: missing ${missing[*]}" >&2
  usage
fi
for f in "$ca" "$cert" "$key"; do
  [[ -r "$f" ]] || { echo "start-grpcwebproxy: cannot read $f" >&2; exit 1; }
done
if [[ "$origin" == "*" ]]; then
  echo "start-grpcwebproxy: refusing origin '*': name the dashboard's origin" >&2
  exit 1
fi

bin="$("$here/setup-proxy.sh")"

args=(
  --backend_addr="$backend"
  --backend_tls=true
  --backend_tls_ca_files="$ca"
  --backend_client_tls_cert_file="$cert"
  --backend_client_tls_key_file="$key"
  --backend_max_call_recv_msg_size="$max_msg"
  --allowed_origins="$origin"
  --allowed_headers=content-type,x-grpc-web,x-user-agent,grpc-timeout,authorization
  --run_tls_server=false
  --run_http_server=true
  --server_bind_address="$bind"
  --server_http_debug_port="$port"
  --server_http_max_read_timeout="$timeout"
  --server_http_max_write_timeout="$timeout"
)

if [[ -z "$background" ]]; then
  exec "$bin" "${args[@]}"
fi

"$bin" "${args[@]}" >"$background" 2>&1 &
pid=$!
for _ in $(seq 1 150); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start-grpcwebproxy: grpcwebproxy exited during start-up; log $background:" >&2
    tail -n 20 "$background" >&2
    exit 1
  fi
  if (exec 3<>"/dev/tcp/$bind/$port") 2>/dev/null; then
    echo "$pid"
    exit 0
  fi
  sleep 0.2
done
echo "start-grpcwebproxy: port $bind:$port not listening after 30 s (log $background)" >&2
kill "$pid" 2>/dev/null || true
exit 1
