#!/usr/bin/env python3
"""Decodes tensors OUR encoder made with OpenFL 1.9's own receiver, for the encode parity spec.

The other direction of pipeline_parity.py (whose helpers it reuses). stdin: one JSON document
{"seed": N, "cases": [{"id", "pipeline": class name, "settings": {p_sparsity?, n_clusters?},
"mode": "collaborator-delta" | "lossless", "name", "shape", "source": base64 float32 LE,
"wire": base64 NamedTensor bytes made by encodeTensor}, ...]}.

For every case it does what OpenFL's receivers do with the wire bytes: NamedTensor.FromString,
metadata as Collaborator.named_tensor_to_nparray builds it, TensorCodec(pipeline).decompress
(require_lossless=True for `compressed` tensors, as both the Collaborator and the Aggregator
call it). It also encodes the same source with OpenFL's own sender (pipeline_parity.case, same
mode), so the spec can compare our codes with OpenFL's (STC bit for bit, k-means by squared
error).

stdout: one JSON line {"cases": [...]}: per case OpenFL's decoded values as float64 LE
("values64", base64: RandomShift keeps v - s in float64), its dtype, shape, tags, the pipeline
used, the table lookup of each code ("lookupValues") and whether OpenFL's result equals it,
and "reference": pipeline_parity.case's output for OpenFL's own encoding. A decode that raises
gives "decodeError". Usage: .venv/bin/python pipeline_encode_parity.py --seed N < cases.json
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse  # noqa: E402
import base64  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import openfl.pipelines  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pipeline_parity import b64, case, f32_bytes, lookup_values, receive  # noqa: E402


def decode(c: dict) -> dict:
    pipeline_class = getattr(openfl.pipelines, c["pipeline"])
    settings = c["settings"]
    out = {"id": c["id"]}
    try:
        named, entries, used, dec_key, values = receive(
            pipeline_class, settings, base64.b64decode(c["wire"])
        )
    except Exception as error:  # noqa: BLE001 - OpenFL's own failure is the finding
        out["decodeError"] = f"{type(error).__name__}: {error}"
        return out
    values = np.asarray(values)
    out.update(
        values64=b64(np.ascontiguousarray(values, dtype="<f8").tobytes()),
        openflDtype=str(values.dtype),
        shape=list(values.shape),
        tags=list(dec_key.tags),
        decodedWith=type(used).__name__,
    )
    lookup = lookup_values(named, entries, used)
    if lookup is not None:
        out["lookupValues"] = b64(f32_bytes(lookup))
        out["openflMatchesLookup"] = f32_bytes(lookup) == f32_bytes(values)
    source = np.frombuffer(base64.b64decode(c["source"]), dtype="<f4").reshape(c["shape"])
    out["reference"] = case(c["id"], pipeline_class, settings, c["name"], source, c["mode"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    np.random.seed(args.seed)  # OpenFL's RandomShiftTransformer, for the reference encodings
    request = json.load(sys.stdin)
    print(json.dumps({"seed": args.seed, "cases": [decode(c) for c in request["cases"]]}))


if __name__ == "__main__":
    main()
