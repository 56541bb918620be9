#!/usr/bin/env python3
"""Drives OpenFL 1.9's REAL Python collaborator client (AggregatorGRPCClient) against a server.

Runs, in order, the operations named by --ops (default ping,get_tasks,get_tensor,send):
  ping        AggregatorGRPCClient.ping()
  get_tasks   AggregatorGRPCClient.get_tasks()
  get_tensor  AggregatorGRPCClient.get_aggregated_tensor(name, round, report, tags, require_lossless)
              and decodes it with OpenFL's TensorCodec (as Collaborator.named_tensor_to_nparray)
  send        AggregatorGRPCClient.send_local_task_results(...) with a float32 tensor made from
              --send-shape/--send-seed, encoded by OpenFL's TensorCodec + construct_named_tensor
              (as Collaborator.nparray_to_named_tensor without deltas)

stdout: exactly one JSON line ({"ok": true, ...} or {"ok": false, ...}); stderr: logs.
Exit codes: 0 ok, 1 an operation failed (gRPC error or response header mismatch),
2 --timeout expired (OpenFL's client retries failed calls forever), 3 bad arguments/files.
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
import re
import sys
import threading
import traceback
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

import grpc  # noqa: E402
import numpy as np  # noqa: E402
from google.protobuf import text_format  # noqa: E402

from openfl.pipelines import NoCompressionPipeline, TensorCodec  # noqa: E402
from openfl.protocols import utils  # noqa: E402
from openfl.transport.grpc.aggregator_client import AggregatorGRPCClient  # noqa: E402
from openfl.utilities import TensorKey  # noqa: E402

log = logging.getLogger("openfl_client_driver")
ALL_OPS = ("ping", "get_tasks", "get_tensor", "send")


class RetryRecorder(logging.Handler):
    """Remembers the gRPC codes OpenFL's resend loop logs, to explain a timeout."""

    pattern = re.compile(r"Failed to send data request to aggregator .*error code (\S+)")

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.codes: list[str] = []

    def emit(self, record):
        m = self.pattern.search(record.getMessage())
        if m:
            self.codes.append(m.group(1).split(".")[-1])  # "StatusCode.UNAVAILABLE" -> "UNAVAILABLE"


def describe_array(arr: np.ndarray) -> dict:
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


def split_list(s: str) -> list[str]:
    return [x.strip() for x in s.split(",") if x.strip()]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--root-ca", required=True)
    p.add_argument("--cert", required=True, help="collaborator certificate (PEM)")
    p.add_argument("--key", required=True, help="collaborator private key (PEM)")
    p.add_argument("--aggregator-uuid", required=True)
    p.add_argument("--federation-uuid", required=True)
    p.add_argument("--collaborator", required=True, help="collaborator name (header sender)")
    p.add_argument("--single-col-cn", default="")
    p.add_argument("--ops", default=",".join(ALL_OPS), help=f"subset of {','.join(ALL_OPS)}")
    # get_tensor
    p.add_argument("--tensor-name", default="conv.weight")
    p.add_argument("--tensor-round", type=int, default=None, help="default: round from get_tasks, else 0")
    p.add_argument("--tensor-tags", default="model", help="comma separated request tags")
    p.add_argument("--tensor-report", action="store_true")
    p.add_argument("--no-require-lossless", action="store_true")
    # send
    p.add_argument("--task-name", default=None, help="default: first task from get_tasks, else 'train'")
    p.add_argument("--send-round", type=int, default=None, help="default: round from get_tasks, else 0")
    p.add_argument("--send-name", default="conv.weight")
    p.add_argument("--send-shape", default="3,4,5", help="comma separated; '' for a 0-d scalar")
    p.add_argument("--send-seed", type=int, default=1)
    p.add_argument("--send-tags", default="trained", help="tags before OpenFL adds 'compressed'")
    p.add_argument("--data-size", type=int, default=100)
    p.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="also send a 0-d metric tensor (report=true, tag 'metric'); repeatable",
    )
    # behaviour
    p.add_argument("--timeout", type=float, default=30.0, help="whole run, seconds")
    p.add_argument(
        "--no-resend",
        action="store_true",
        help="resend_data_on_reconnection=False: a gRPC error fails at once with its code",
    )
    p.add_argument("--reconnect-interval", type=float, default=1.0)
    p.add_argument("--dump-tensor", action="store_true", help="log fetched/sent NamedTensors as text")
    p.add_argument("--log-level", default="WARNING")
    args = p.parse_args(argv)
    args.ops = split_list(args.ops)
    bad = [o for o in args.ops if o not in ALL_OPS]
    if bad:
        p.error(f"unknown ops {bad}; known: {ALL_OPS}")
    args.tensor_tags = split_list(args.tensor_tags)
    args.send_tags = split_list(args.send_tags)
    args.send_shape = [int(x) for x in split_list(args.send_shape)]
    metrics = []
    for m in args.metric:
        name, sep, value = m.partition("=")
        if not sep or not name:
            p.error(f"--metric expects NAME=VALUE, got {m!r}")
        metrics.append((name, float(value)))
    args.metric = metrics
    return args


def make_send_tensor(shape, seed) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(size=tuple(shape)).astype(np.float32)


def run(args, result: dict, codec: TensorCodec):
    stage = "connect"
    result["stage"] = stage
    client = AggregatorGRPCClient(
        args.host,
        args.port,
        aggregator_uuid=args.aggregator_uuid,
        federation_uuid=args.federation_uuid,
        collaborator_name=args.collaborator,
        use_tls=True,
        require_client_auth=True,
        root_certificate=args.root_ca,
        certificate=args.cert,
        private_key=args.key,
        single_col_cert_common_name=args.single_col_cn,
        resend_data_on_reconnection=not args.no_resend,
        client_reconnect_interval=args.reconnect_interval,
    )
    round_number = None
    tasks = []

    if "ping" in args.ops:
        result["stage"] = "ping"
        client.ping()
        result["ping"] = True

    if "get_tasks" in args.ops:
        result["stage"] = "get_tasks"
        tasks_pb, round_number, sleep_time, quit_ = client.get_tasks()
        tasks = [t.name for t in tasks_pb]
        result["tasks"] = tasks
        result["round"] = int(round_number)
        result["sleep_time"] = int(sleep_time)
        result["quit"] = bool(quit_)

    if "get_tensor" in args.ops:
        result["stage"] = "get_tensor"
        t_round = args.tensor_round if args.tensor_round is not None else (round_number or 0)
        nt = client.get_aggregated_tensor(
            args.tensor_name,
            t_round,
            args.tensor_report,
            args.tensor_tags,
            not args.no_require_lossless,
        )
        if args.dump_tensor:
            log.warning("fetched NamedTensor:\n%s", text_format.MessageToString(nt))
        fetched = {
            "name": nt.name,
            "round_number": nt.round_number,
            "report": nt.report,
            "lossless": nt.lossless,
            "tags": list(nt.tags),
            "transformer_metadata": [
                {
                    "int_list": list(p.int_list),
                    "int_to_float": {str(k): v for k, v in p.int_to_float.items()},
                    "bool_list": list(p.bool_list),
                }
                for p in nt.transformer_metadata
            ],
            "data_bytes_len": len(nt.data_bytes),
            "data_bytes_sha256": hashlib.sha256(nt.data_bytes).hexdigest(),
        }
        key = TensorKey(nt.name, args.collaborator, nt.round_number, nt.report, tuple(nt.tags))
        metadata = [
            {"int_to_float": p.int_to_float, "int_list": p.int_list, "bool_list": p.bool_list}
            for p in nt.transformer_metadata
        ]
        if "compressed" in key.tags or "lossy_compressed" in key.tags:
            dec_key, arr = codec.decompress(
                key,
                data=nt.data_bytes,
                transformer_metadata=metadata,
                require_lossless="compressed" in key.tags,
            )
            fetched["decoded_tags"] = list(dec_key.tags)
            fetched.update(describe_array(arr))
        else:
            # Collaborator.named_tensor_to_nparray bypasses the codec here (e.g. an empty tensor).
            fetched["decoded"] = False
        result["fetched"] = fetched

    if "send" in args.ops:
        result["stage"] = "send"
        s_round = args.send_round if args.send_round is not None else (round_number or 0)
        task_name = args.task_name or (tasks[0] if tasks else "train")
        arr = make_send_tensor(args.send_shape, args.send_seed)
        named = []
        tk = TensorKey(args.send_name, args.collaborator, s_round, False, tuple(args.send_tags))
        ck, cbytes, meta = codec.compress(tk, arr, require_lossless=True)
        named.append(utils.construct_named_tensor(ck, cbytes, meta, lossless=True))
        metrics_out = []
        for m_name, m_value in args.metric:
            m_arr = np.array(m_value, dtype=np.float32)
            mk = TensorKey(m_name, args.collaborator, s_round, True, ("metric",))
            ck2, cbytes2, meta2 = codec.compress(mk, m_arr, require_lossless=True)
            named.append(utils.construct_named_tensor(ck2, cbytes2, meta2, lossless=True))
            metrics_out.append({"name": m_name, "tags": list(ck2.tags), **describe_array(m_arr)})
        if args.dump_tensor:
            for nt in named:
                log.warning("sent NamedTensor:\n%s", text_format.MessageToString(nt))
        client.send_local_task_results(s_round, task_name, args.data_size, named)
        result["sent"] = {
            "task_name": task_name,
            "round": s_round,
            "data_size": args.data_size,
            "name": args.send_name,
            "tags": list(named[0].tags),
            "seed": args.send_seed,
            **describe_array(arr),
            "metrics": metrics_out,
        }

    result["stage"] = "done"
    try:
        client.disconnect()
    except Exception:  # noqa: BLE001
        pass


def main(argv=None) -> int:
    args = parse_args(argv)
    level = getattr(logging, args.log_level.upper(), logging.WARNING)
    stderr_handler = logging.StreamHandler(sys.stderr)
    stderr_handler.setLevel(level)
    stderr_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(stderr_handler)
    logging.getLogger().setLevel(min(level, logging.INFO))
    # OpenFL's client logs each retried gRPC error at INFO; keep the codes to explain a timeout.
    recorder = RetryRecorder()
    logging.getLogger("openfl.transport.grpc.aggregator_client").addHandler(recorder)

    def emit(payload: dict, code: int) -> int:
        sys.stdout.write(json.dumps(payload, sort_keys=True) + "\n")
        sys.stdout.flush()
        return code

    for path in (args.root_ca, args.cert, args.key):
        if not os.path.isfile(path):
            return emit({"ok": False, "stage": "args", "error": f"file not found: {path}"}, 3)

    result: dict = {"collaborator": args.collaborator}
    outcome: dict = {}
    codec = TensorCodec(NoCompressionPipeline())

    def worker():
        try:
            run(args, result, codec)
            outcome["ok"] = True
        except grpc.RpcError as e:
            outcome["error"] = {"code": e.code().name, "details": e.details()}
        except AssertionError as e:  # OpenFL's response-header validation
            outcome["error"] = {"code": None, "details": f"AssertionError: {e}"}
        except BaseException as e:  # noqa: BLE001
            outcome["error"] = {
                "code": None,
                "details": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(),
            }

    t = threading.Thread(target=worker, name="openfl-client", daemon=True)
    t.start()
    t.join(args.timeout)

    if t.is_alive():
        msg = (
            f"timed out after {args.timeout:g}s in stage {result.get('stage')!r} "
            f"(OpenFL's client retries failed calls forever)"
        )
        if recorder.codes:
            msg += f"; gRPC codes seen while retrying: {sorted(set(recorder.codes))}"
        print(f"openfl_client_driver: {msg}", file=sys.stderr)
        payload = {
            "ok": False,
            "stage": result.get("stage"),
            "error": msg,
            "code": recorder.codes[-1] if recorder.codes else None,
            "retry_codes": recorder.codes,
            "partial": result,
        }
        emit(payload, 2)
        os._exit(2)  # the client thread is stuck in OpenFL's retry loop

    if not outcome.get("ok"):
        err = outcome.get("error", {"code": None, "details": "unknown failure"})
        print(
            f"openfl_client_driver: failed in stage {result.get('stage')!r}: "
            f"{err.get('code')} {err.get('details')}",
            file=sys.stderr,
        )
        return emit(
            {
                "ok": False,
                "stage": result.get("stage"),
                "error": err.get("details"),
                "code": err.get("code"),
                "partial": result,
            },
            1,
        )

    result.pop("stage", None)
    result["ok"] = True
    return emit(result, 0)


if __name__ == "__main__":
    sys.exit(main())
