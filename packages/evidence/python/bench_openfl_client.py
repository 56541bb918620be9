#!/usr/bin/env python3
"""Times OpenFL 1.9's real AggregatorGRPCClient (or, with --transport-protocol rest, its
AggregatorRESTClient): send_local_task_results and get_aggregated_tensor
of one float32 tensor of N MiB, each --reps times. Prints one JSON line per measurement:
{"op": "upload"|"download", "mib": N, "seconds": S}. Uploads use task names <task-prefix><k>."""

import os

# openfl.federated imports keras, whose default backend (TensorFlow) is not installed: the venv
# has Keras 3 on JAX. Set before any openfl import, in every process that imports openfl.
os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse
import json
import sys
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

import numpy as np  # noqa: E402

from openfl.pipelines import NoCompressionPipeline, TensorCodec  # noqa: E402
from openfl.protocols import utils  # noqa: E402
from openfl.transport.grpc.aggregator_client import AggregatorGRPCClient  # noqa: E402
from openfl.transport.rest.aggregator_client import AggregatorRESTClient  # noqa: E402
from openfl.utilities import TensorKey  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--root-ca", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--aggregator-uuid", required=True)
    p.add_argument("--federation-uuid", required=True)
    p.add_argument("--collaborator", required=True)
    p.add_argument("--sizes", default="1,16")
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--ops", default="upload,download")
    p.add_argument("--task-prefix", default="py")
    p.add_argument("--transport-protocol", choices=("grpc", "rest"), default="grpc")
    args = p.parse_args()
    client_class = AggregatorRESTClient if args.transport_protocol == "rest" else AggregatorGRPCClient
    client = client_class(
        "localhost",
        args.port,
        aggregator_uuid=args.aggregator_uuid,
        federation_uuid=args.federation_uuid,
        collaborator_name=args.collaborator,
        root_certificate=args.root_ca,
        certificate=args.cert,
        private_key=args.key,
    )
    codec = TensorCodec(NoCompressionPipeline())
    client.ping()
    task = 0
    for mib in [int(s) for s in args.sizes.split(",") if s]:
        if "upload" in args.ops:
            arr = np.random.default_rng(mib).random(mib * 1024 * 1024 // 4, dtype=np.float32)
            tk = TensorKey("w", args.collaborator, 0, False, ("trained",))
            ck, cbytes, meta = codec.compress(tk, arr, require_lossless=True)
            named = [utils.construct_named_tensor(ck, cbytes, meta, lossless=True)]
            for _ in range(args.reps):
                # A tensor name per task: the reference aggregator, like OpenFL's, refuses a key
                # (name, round, report, tags) that another task of the round already sent, and
                # OpenFL's client would resend the refused upload forever.
                named[0].name = f"w-{args.task_prefix}{task}"
                t0 = time.perf_counter()
                client.send_local_task_results(0, f"{args.task_prefix}{task}", 10, named)
                dt = time.perf_counter() - t0
                task += 1
                print(json.dumps({"op": "upload", "mib": mib, "seconds": dt}), flush=True)
            del named, cbytes, arr
        if "download" in args.ops:
            for _ in range(args.reps):
                t0 = time.perf_counter()
                nt = client.get_aggregated_tensor(f"bench{mib}", 0, False, ("model",), True)
                dt = time.perf_counter() - t0
                assert len(nt.data_bytes) == mib * 1024 * 1024, len(nt.data_bytes)
                print(json.dumps({"op": "download", "mib": mib, "seconds": dt}), flush=True)
                del nt
    if hasattr(client, "disconnect"):  # the REST client has none
        client.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
