#!/usr/bin/env python3
"""Runs OpenFL 1.9's REAL gRPC aggregator server with a small stand-in aggregator behind it.

The gRPC layer (TLS, client-certificate CN check, header asserts, SendLocalTaskResults stream
handling, error codes) is openfl.transport.grpc.aggregator_server.AggregatorGRPCServer, unmodified.
Tensors are encoded and decoded with OpenFL's own TensorCodec / NoCompressionPipeline and
openfl.protocols.utils.construct_named_tensor, so the bytes on the wire come from OpenFL.

stdout: exactly one line, {"ready": true, "port": N}, once the server is listening.
stderr: logs. SIGTERM/SIGINT stop the server and exit 0 within about a second.
See README.md for flags and the record files written to --record-dir.
"""

from __future__ import annotations

import os

# openfl.federated imports keras, whose default backend (TensorFlow) is not installed: the venv
# has Keras 3 on JAX. Set before any openfl import, in every process that imports openfl.
os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse
import hashlib
import json
import logging
import sys
import tempfile
import threading
import time
import warnings

# openfl 1.9 calls np.reshape(newshape=...), deprecated in numpy 2.1+: keep stderr readable.
warnings.filterwarnings("ignore", category=DeprecationWarning)

import numpy as np  # noqa: E402

from openfl.pipelines import NoCompressionPipeline, TensorCodec  # noqa: E402
from openfl.protocols import base_pb2, utils  # noqa: E402
from openfl.utilities import TaskResultKey, TensorKey, change_tags  # noqa: E402
from openfl_serving import (  # noqa: E402
    CreatedServers,
    ServeFailed,
    make_tls_server,
    serve_in_thread,
    stop_on_signals,
)

log = logging.getLogger("openfl_server_fixture")


def model_tensors(round_number: int, large_elements: int = 0) -> dict[str, np.ndarray]:
    """The model the fixture serves for a round (tags ("model",), report False).

    Round 0 is exactly np.arange(60)/7 (float32) and a 0-d scalar 0.25; round r adds r to both.
    With large_elements N > 0 also "large": (np.arange(N) % 4099) / 7 + r, float32, 1-d.
    """
    base = np.arange(60, dtype=np.float32).reshape(3, 4, 5) / np.float32(7)
    scale = np.array(0.25, dtype=np.float32)
    tensors = {
        "conv.weight": (base + np.float32(round_number)).astype(np.float32),
        "scale": (scale + np.float32(round_number)).astype(np.float32),
    }
    if large_elements > 0:
        large = (np.arange(large_elements) % 4099).astype(np.float32) / np.float32(7)
        tensors["large"] = (large + np.float32(round_number)).astype(np.float32)
    return tensors


def describe_array(arr: np.ndarray) -> dict:
    """Shape/dtype/count, sha256 of the float32 little-endian bytes, first 5 values, sum."""
    a = np.asarray(arr)
    f32 = np.ascontiguousarray(a, dtype="<f4")
    flat = f32.reshape(-1)
    return {
        "shape": list(a.shape),
        "dtype": str(a.dtype),
        "count": int(flat.size),
        "sha256": hashlib.sha256(f32.tobytes(order="C")).hexdigest(),
        "first": [float(x) for x in flat[:5]],
        "sum": float(flat.astype(np.float64).sum()),
    }


def metadata_as_dicts(named_tensor) -> list[dict]:
    # The same shape OpenFL's aggregator builds in _process_named_tensor.
    return [
        {"int_to_float": p.int_to_float, "int_list": p.int_list, "bool_list": p.bool_list}
        for p in named_tensor.transformer_metadata
    ]


def write_json_atomic(directory: str, name: str, payload: dict) -> str:
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        final = os.path.join(directory, name)
        os.replace(tmp, final)
        return final
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class FixtureAggregator:
    """Stand-in for openfl.component.aggregator.Aggregator: exactly what AggregatorGRPCServer calls.

    Attributes read by the server: uuid, federation_uuid, single_col_cert_common_name,
    authorized_cols, connector. Methods: valid_collaborator_cn_and_id, get_tasks,
    get_aggregated_tensor, send_local_task_results, all_quit_jobs_sent.
    """

    def __init__(
        self,
        *,
        aggregator_uuid: str,
        federation_uuid: str,
        collaborators: list[str],
        single_col_cert_common_name: str,
        rounds: int,
        tasks: list[str],
        record_dir: str,
        sleep_time: int,
        tensor_wait: float,
        exit_after_quit: bool,
        large_elements: int = 0,
    ):
        self.uuid = aggregator_uuid
        self.large_elements = large_elements
        self.federation_uuid = federation_uuid
        self.authorized_cols = list(collaborators)
        self.single_col_cert_common_name = single_col_cert_common_name or ""
        self.connector = None  # not in interop mode: InteropRelay answers UNIMPLEMENTED

        self.rounds_to_train = rounds
        self.round_number = 0
        self.tasks = list(tasks)
        self.record_dir = record_dir
        self.sleep_time = sleep_time
        self.tensor_wait = tensor_wait
        self.exit_after_quit = exit_after_quit

        self.quit_job_sent_to: list[str] = []
        self.collaborator_tasks_results: dict[TaskResultKey, list] = {}
        self.tensor_codec = TensorCodec(NoCompressionPipeline())
        self._lock = threading.RLock()
        self._seq = 0

        # TensorKey(name, origin, round, report, tags) -> array, like the real TensorDB cache.
        self.tensor_db: dict[TensorKey, np.ndarray] = {}
        self._add_model(0)

        self.ready = threading.Event()
        self.stop_requested = threading.Event()

    # ---- helpers -------------------------------------------------------------------------
    def _add_model(self, round_number: int) -> None:
        for name, arr in model_tensors(round_number, self.large_elements).items():
            self.tensor_db[TensorKey(name, self.uuid, round_number, False, ("model",))] = arr

    def _time_to_quit(self) -> bool:
        return self.round_number >= self.rounds_to_train

    def _task_done(self, collaborator: str, task_name: str, round_number: int) -> bool:
        return TaskResultKey(task_name, collaborator, round_number) in self.collaborator_tasks_results

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def is_connector_available(self) -> bool:
        return False

    # ---- called by AggregatorGRPCServer --------------------------------------------------
    def valid_collaborator_cn_and_id(self, cert_common_name, collaborator_common_name):
        if self.single_col_cert_common_name == "":
            return (
                cert_common_name == collaborator_common_name
                and collaborator_common_name in self.authorized_cols
            )
        return (
            cert_common_name == self.single_col_cert_common_name
            and collaborator_common_name in self.authorized_cols
        )

    def all_quit_jobs_sent(self) -> bool:
        # serve() calls this for the first time right after server.start(): the port is listening.
        self.ready.set()
        if self.stop_requested.is_set():
            return True
        if not self.exit_after_quit:
            return False
        with self._lock:
            return set(self.quit_job_sent_to) == set(self.authorized_cols)

    def get_tasks(self, collaborator_name):
        with self._lock:
            if self._time_to_quit():
                log.info("Sending quit to collaborator %s", collaborator_name)
                self.quit_job_sent_to.append(collaborator_name)
                return None, self.round_number, 0, True
            tasks = [
                t for t in self.tasks if not self._task_done(collaborator_name, t, self.round_number)
            ]
            if not tasks:
                return None, self.round_number, self.sleep_time, False
            log.info(
                "Sending tasks %s to collaborator %s for round %d",
                tasks,
                collaborator_name,
                self.round_number,
            )
            return tasks, self.round_number, 0, False

    def get_aggregated_tensor(
        self, tensor_name, round_number, report, tags, require_lossless, requested_by
    ):
        compress_lossless = "compressed" in tags or require_lossless
        for tag in tags:
            if tag in self.authorized_cols and tag != requested_by:
                log.error(
                    "Tag check failed: unauthorized tags detected. Only '%s' is allowed.",
                    requested_by,
                )
                return base_pb2.NamedTensor()
        if "compressed" in tags:
            tags = change_tags(tags, remove_field="compressed")
        if "lossy_compressed" in tags:
            tags = change_tags(tags, remove_field="lossy_compressed")
        tensor_key = TensorKey(tensor_name, self.uuid, round_number, report, tuple(tags))

        deadline = time.monotonic() + self.tensor_wait
        while True:
            with self._lock:
                nparray = self.tensor_db.get(tensor_key)
            if nparray is not None or time.monotonic() >= deadline:
                break
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        if nparray is None:
            raise ValueError(f"Aggregator does not have an aggregated tensor for {tensor_key}")

        # OpenFL's own encoding, as in Aggregator._nparray_to_named_tensor (non-delta branch).
        compressed_key, compressed_bytes, metadata = self.tensor_codec.compress(
            tensor_key, nparray, require_lossless=True
        )
        return utils.construct_named_tensor(
            compressed_key, compressed_bytes, metadata, lossless=compress_lossless
        )

    def send_local_task_results(
        self, collaborator_name, round_number, task_name, data_size, named_tensors
    ):
        with self._lock:
            reason = None
            if self._time_to_quit():
                reason = "experiment finished"
            elif round_number != self.round_number:
                reason = f"wrong round (current {self.round_number})"
            elif self._task_done(collaborator_name, task_name, round_number):
                reason = "duplicate"
            if reason is not None:
                log.warning(
                    "Ignoring task results from %s for %s round %d: %s",
                    collaborator_name,
                    task_name,
                    round_number,
                    reason,
                )
                seq = self._next_seq()
                write_json_atomic(
                    self.record_dir,
                    f"ignored-{seq:04d}.json",
                    {
                        "ignored": True,
                        "reason": reason,
                        "seq": seq,
                        "collaborator": collaborator_name,
                        "round": round_number,
                        "task_name": task_name,
                        "data_size": data_size,
                        "tensor_names": [t.name for t in named_tensors],
                    },
                )
                return

            # Decode everything first (OpenFL's codec asserts on missing tags/metadata -> UNKNOWN),
            # then record, so a bad upload leaves no trace, like the real aggregator.
            records = []
            for nt in named_tensors:
                key = TensorKey(nt.name, self.uuid, nt.round_number, nt.report, tuple(nt.tags))
                assert "compressed" in key.tags or "lossy_compressed" in key.tags, (
                    f"Named tensor {key} is not compressed"
                )
                dec_key, arr = self.tensor_codec.decompress(
                    key,
                    data=nt.data_bytes,
                    transformer_metadata=metadata_as_dicts(nt),
                    require_lossless="compressed" in key.tags,
                )
                rec = {
                    "name": nt.name,
                    "round_number": nt.round_number,
                    "tags": list(nt.tags),
                    "decoded_tags": list(dec_key.tags),
                    "report": nt.report,
                    "lossless": nt.lossless,
                    "data_bytes_len": len(nt.data_bytes),
                    "transformer_metadata": [
                        {
                            "int_list": list(p.int_list),
                            "int_to_float": {str(k): v for k, v in p.int_to_float.items()},
                            "bool_list": list(p.bool_list),
                        }
                        for p in nt.transformer_metadata
                    ],
                }
                rec.update(describe_array(arr))
                records.append(rec)

            task_key = TaskResultKey(task_name, collaborator_name, round_number)
            self.collaborator_tasks_results[task_key] = records
            seq = self._next_seq()
            path = write_json_atomic(
                self.record_dir,
                f"results-r{round_number}-{collaborator_name}-{task_name}.json",
                {
                    "ignored": False,
                    "seq": seq,
                    "collaborator": collaborator_name,
                    "round": round_number,
                    "task_name": task_name,
                    "data_size": data_size,
                    "tensors": records,
                },
            )
            log.info(
                "Recorded %d tensors from %s for %s round %d -> %s",
                len(records),
                collaborator_name,
                task_name,
                round_number,
                path,
            )

            # End of round once every collaborator has sent every task of the round.
            if all(
                self._task_done(c, t, self.round_number)
                for c in self.authorized_cols
                for t in self.tasks
            ):
                self.round_number += 1
                log.info("Round %d finished; now round %d", round_number, self.round_number)
                if not self._time_to_quit():
                    self._add_model(self.round_number)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root-ca", required=True, help="PEM CA that signed the collaborator certs")
    p.add_argument("--cert", required=True, help="PEM server certificate")
    p.add_argument("--key", required=True, help="PEM server private key")
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port (default)")
    p.add_argument("--aggregator-uuid", required=True)
    p.add_argument("--federation-uuid", required=True)
    p.add_argument("--collaborators", required=True, help="comma separated authorised names")
    p.add_argument("--record-dir", required=True)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--single-col-cn", default="", help="single_col_cert_common_name (default '')")
    p.add_argument("--tasks", default="train", help="comma separated task names per round")
    p.add_argument("--sleep-time", type=int, default=10, help="sleep_time when no task is left")
    p.add_argument(
        "--tensor-wait",
        type=float,
        default=60.0,
        help="seconds get_aggregated_tensor waits for a missing tensor before UNKNOWN (real: ~60)",
    )
    p.add_argument(
        "--exit-after-quit",
        action="store_true",
        help="exit (like the real aggregator) once every collaborator received quit; "
        "default: keep serving until SIGTERM",
    )
    p.add_argument(
        "--large-tensor-elements",
        type=int,
        default=0,
        help="also serve a float32 tensor 'large' of this many elements (default 0: none)",
    )
    p.add_argument(
        "--transport-protocol",
        choices=("grpc", "rest"),
        default="grpc",
        help="the plan's network.settings.transport_protocol: which real OpenFL server (default grpc)",
    )
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    args.collaborators = [c.strip() for c in args.collaborators.split(",") if c.strip()]
    args.tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if not args.collaborators:
        p.error("--collaborators must name at least one collaborator")
    if not args.tasks:
        p.error("--tasks must name at least one task")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, args.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for path in (args.root_ca, args.cert, args.key):
        if not os.path.isfile(path):
            log.error("file not found: %s", path)
            return 2
    os.makedirs(args.record_dir, exist_ok=True)

    stop = stop_on_signals()
    created = CreatedServers()

    def make(port):
        aggregator = FixtureAggregator(
            aggregator_uuid=args.aggregator_uuid,
            federation_uuid=args.federation_uuid,
            collaborators=args.collaborators,
            single_col_cert_common_name=args.single_col_cn,
            rounds=args.rounds,
            tasks=args.tasks,
            record_dir=args.record_dir,
            sleep_time=args.sleep_time,
            tensor_wait=args.tensor_wait,
            exit_after_quit=args.exit_after_quit,
            large_elements=args.large_tensor_elements,
        )
        server = make_tls_server(
            args.transport_protocol, aggregator, args.host, port, args.root_ca, args.cert, args.key
        )
        made.append(aggregator)
        return server, aggregator.ready

    made: list[FixtureAggregator] = []
    try:
        started = serve_in_thread(args.host, args.port, make, stop)
    except ServeFailed:
        return 1
    if started is None:
        return 0
    grpc_server, port, thread = started
    aggregator = made[-1]

    sys.stdout.write(json.dumps({"ready": True, "port": port}) + "\n")
    sys.stdout.flush()
    log.info(
        "OpenFL %s server listening on %s:%d (aggregator %s, federation %s, cols %s)",
        args.transport_protocol,
        args.host,
        port,
        args.aggregator_uuid,
        args.federation_uuid,
        ",".join(args.collaborators),
    )

    while not stop.is_set() and thread.is_alive():
        stop.wait(0.2)

    if stop.is_set():
        aggregator.stop_requested.set()
        created.stop(0.5)
        log.info("stopped")
    else:
        log.info("all collaborators received quit; serve() returned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
