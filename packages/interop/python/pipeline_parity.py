#!/usr/bin/env python3
"""Encodes and decodes tensors with OpenFL 1.9's own compression pipelines, for the parity spec.

For every pipeline OpenFL ships without torch (NoCompression, RandomShift, STC, SKC, KC; the
lossy ones with their default settings and one other setting) and every test array (scalar,
empty, 1-element, ties, all zeros, random), it does what OpenFL's senders and receivers do:

  sender    TensorCodec(pipeline).compress(tensor_key, array, ...) then
            openfl.protocols.utils.construct_named_tensor(...).SerializeToString()
            modes: "collaborator-delta" (Collaborator.nparray_to_named_tensor for a trained
            delta: lossy, lossless=False), "lossless" (require_lossless=True, lossless=True: every
            other tensor), "aggregator-delta" (Aggregator._nparray_to_named_tensor for an
            aggregated delta: compress(..., lossless=True), which is a pipeline kwarg, not
            require_lossless, so it is lossy-compressed with NamedTensor.lossless=True)
  receiver  NamedTensor.FromString(bytes), metadata as Collaborator.named_tensor_to_nparray
            builds it, then TensorCodec(pipeline).decompress(...) as that method calls it

stdout: one JSON line {"cases": [...]}: per case the wire bytes, OpenFL's decoded values as
float32 little-endian bytes (base64), shape, tags and pipeline used; for lossy decodes also the
values each code's table entry gives ("lookupValues") and whether OpenFL's result equals them.
A case whose encoding raises in OpenFL has "encodeError" instead. stderr: warnings.
Usage: .venv/bin/python pipeline_parity.py [--seed N]
"""

from __future__ import annotations

import os

# openfl imports keras, whose default backend (TensorFlow) is not installed.
os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse  # noqa: E402
import base64  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import warnings  # noqa: E402

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

from openfl.pipelines import (  # noqa: E402
    KCPipeline,
    NoCompressionPipeline,
    RandomShiftPipeline,
    SKCPipeline,
    STCPipeline,
    TensorCodec,
)
from openfl.protocols import base_pb2, utils  # noqa: E402
from openfl.utilities import TensorKey  # noqa: E402

# (id, class, settings): the plan's compression_pipeline.settings.
PIPELINES = [
    ("none", NoCompressionPipeline, {}),
    ("random-shift", RandomShiftPipeline, {}),
    ("stc", STCPipeline, {}),
    ("stc-p0.5", STCPipeline, {"p_sparsity": 0.5}),
    ("skc", SKCPipeline, {}),
    ("skc-p0.3-k3", SKCPipeline, {"p_sparsity": 0.3, "n_clusters": 3}),
    ("kc", KCPipeline, {}),
    ("kc-k3", KCPipeline, {"n_clusters": 3}),
]


def arrays(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    f32 = np.float32
    stc_mean_one = np.zeros(20, dtype=f32)
    stc_mean_one[3], stc_mean_one[11] = 10, -10  # top 10 % = both; mean |.| over 20 = 1.0
    return [
        ("scalar", np.array(1.25, dtype=f32)),
        ("scalar-negative", np.array(-3.5, dtype=f32)),
        ("empty", np.zeros((0,), dtype=f32)),
        ("empty-2d", np.zeros((0, 3), dtype=f32)),
        ("one-element", np.array([0.75], dtype=f32)),
        ("ties", rng.integers(-2, 4, size=(6, 5)).astype(f32)),
        ("ties-halves", (rng.integers(-3, 3, size=(4, 4)) / 2).astype(f32)),
        ("all-zeros", np.zeros((3, 4), dtype=f32)),
        ("stc-mean-one", stc_mean_one),
        ("few-values", np.array([1.0, 3.0], dtype=f32)),
        ("random", rng.standard_normal((7, 13)).astype(f32)),
        ("random-3d", (rng.standard_normal((3, 4, 5)) * 10).astype(f32)),
        ("random-large", rng.standard_normal((32, 50)).astype(f32)),
    ]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def f32_bytes(array) -> bytes:
    return np.ascontiguousarray(np.asarray(array, dtype="<f4")).tobytes()


def receive(pipeline_class, settings, wire: bytes):
    """What Collaborator.named_tensor_to_nparray does with a NamedTensor it received."""
    codec = TensorCodec(pipeline_class(**settings))
    named = base_pb2.NamedTensor.FromString(wire)
    metadata = [
        {"int_to_float": p.int_to_float, "int_list": p.int_list, "bool_list": p.bool_list}
        for p in named.transformer_metadata
    ]
    entries = list(metadata)  # backward pops from `metadata`
    key = TensorKey(named.name, "receiver", named.round_number, named.report, tuple(named.tags))
    if "compressed" in named.tags:
        used = codec.lossless_pipeline
        dec_key, values = codec.decompress(key, named.data_bytes, metadata, require_lossless=True)
    else:
        used = codec.compression_pipeline
        dec_key, values = codec.decompress(key, named.data_bytes, metadata)
    return named, entries, used, dec_key, values


def lookup_values(named, entries, used) -> np.ndarray | None:
    """Each code's table entry: what the sender encoded (None for lossless pipelines)."""
    if isinstance(used, KCPipeline):
        table, shape = entries[0]["int_to_float"], list(entries[0]["int_list"])
    elif isinstance(used, (STCPipeline, SKCPipeline)):
        table, shape = entries[1]["int_to_float"], list(entries[0]["int_list"])
    else:
        return None
    codes = np.frombuffer(gzip.decompress(named.data_bytes), dtype="<f4")
    return np.array([table[int(c)] for c in codes], dtype=np.float32).reshape(shape)


def case(pid, pipeline_class, settings, name, array, mode) -> dict:
    out = {"id": f"{pid}/{name}/{mode}", "pipeline": pipeline_class.__name__, "mode": mode}
    codec = TensorCodec(pipeline_class(**settings))
    if mode == "collaborator-delta":
        key = TensorKey(name, "collaborator1", 3, False, ("trained", "delta"))
        compress = {}
        lossless = False
    elif mode == "aggregator-delta":
        key = TensorKey(name, "aggregator_x", 3, False, ("aggregated", "delta"))
        compress = {"lossless": True}
        lossless = True
    else:
        key = TensorKey(name, "collaborator1", 3, False, ("trained",))
        compress = {"require_lossless": True}
        lossless = True
    try:
        c_key, data, metadata = codec.compress(key, array, **compress)
    except Exception as error:  # noqa: BLE001 - OpenFL's own failure is the finding
        out["encodeError"] = f"{type(error).__name__}: {error}"
        return out
    wire = utils.construct_named_tensor(c_key, data, metadata, lossless=lossless).SerializeToString()
    named, entries, used, dec_key, values = receive(pipeline_class, settings, wire)
    values = np.asarray(values)
    out.update(
        wire=b64(wire),
        shape=list(values.shape),
        openflDtype=str(values.dtype),
        values=b64(f32_bytes(values)),
        tags=list(dec_key.tags),
        decodedWith=type(used).__name__,
    )
    lookup = lookup_values(named, entries, used)
    if lookup is not None:
        out["lookupValues"] = b64(f32_bytes(lookup))
        out["openflMatchesLookup"] = f32_bytes(lookup) == f32_bytes(values)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    np.random.seed(args.seed)  # RandomShiftTransformer draws from numpy's global generator
    rng = np.random.default_rng(args.seed)
    cases = []
    for pid, pipeline_class, settings in PIPELINES:
        lossy = pipeline_class(**settings).is_lossy()
        for name, array in arrays(rng):
            modes = ["collaborator-delta", "lossless"] if lossy else ["lossless"]
            if lossy and name == "random":
                modes.append("aggregator-delta")
            if not lossy and name == "random":
                modes.append("collaborator-delta")
            for mode in modes:
                cases.append(case(pid, pipeline_class, settings, name, array, mode))
    print(json.dumps({"seed": args.seed, "cases": cases}))


if __name__ == "__main__":
    main()
