#!/usr/bin/env python3
"""OpenFL 1.9's real AggregatorGRPCServer, or with --transport-protocol rest its
AggregatorRESTServer (packages/interop/python/openfl_server_fixture.py), for
benchmarks: the stand-in aggregator also serves tensors bench<N> of N MiB (float32, tags ("model",),
round 0) for --bench-sizes, and records uploads without hashing them (describe_array is the
fixture's, not OpenFL's, work). Every other flag is the fixture's."""

import os

# openfl.federated imports keras, whose default backend (TensorFlow) is not installed: the venv
# has Keras 3 on JAX. Set before any openfl import, in every process that imports openfl.
os.environ.setdefault("KERAS_BACKEND", "jax")

import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "interop", "python"))

import numpy as np  # noqa: E402

import openfl_server_fixture as fixture  # noqa: E402


def main() -> int:
    argv = sys.argv[1:]
    sizes = []
    if "--bench-sizes" in argv:
        i = argv.index("--bench-sizes")
        sizes = [int(s) for s in argv[i + 1].split(",") if s]
        del argv[i : i + 2]
    rng = np.random.default_rng(0)
    bench = {f"bench{n}": rng.random(n * 1024 * 1024 // 4, dtype=np.float32) for n in sizes}
    real_model_tensors = fixture.model_tensors

    def model_tensors(round_number, large_elements=0):
        tensors = dict(real_model_tensors(round_number, large_elements))
        if round_number == 0:
            tensors.update(bench)
        return tensors

    fixture.model_tensors = model_tensors
    fixture.describe_array = lambda arr: {"shape": list(np.asarray(arr).shape)}
    return fixture.main(argv)


if __name__ == "__main__":
    sys.exit(main())
