#!/usr/bin/env python3
"""Runs a REAL OpenFL 1.9 federation over mutual TLS: the real Aggregator behind the real
AggregatorGRPCServer, plus zero or more real Collaborators (each in its own thread, each with the
real AggregatorGRPCClient and its own certificate) that train a small numpy softmax regression.

The aggregator is built in code (no plan file): initial model {"dense.weight": zeros(3,4),
"dense.bias": zeros(3)} (float32), StaticGroupedAssigner with one task group running
aggregated_model_validation, train and locally_tuned_model_validation (WeightedAverage) every round.

stdout: {"ready": true, "port": N} once the server listens; {"done": true, "rounds": R} when the
experiment is over and every authorised collaborator has been sent quit. Everything else (logs,
tracebacks) goes to stderr. SIGTERM/SIGINT stop everything and exit 0. See README.md for the flags
and the record files written to --out-dir.
"""

from __future__ import annotations

import os

# openfl.federated imports keras, whose default backend (TensorFlow) is not installed: the venv
# has Keras 3 on JAX. Set before any openfl import, in every process that imports openfl.
os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse
import copy
import importlib
import json
import logging
import queue
import sys
import threading
import time
import traceback
import warnings

# openfl 1.9 calls np.reshape(newshape=...), deprecated in numpy 2.1+: keep stderr readable.
warnings.filterwarnings("ignore", category=DeprecationWarning)

import numpy as np  # noqa: E402

from openfl.callbacks import LambdaCallback  # noqa: E402
from openfl.component.aggregator import aggregator as openfl_aggregator_module  # noqa: E402
from openfl.component.aggregator.aggregator import Aggregator  # noqa: E402
from openfl.component.assigner import StaticGroupedAssigner  # noqa: E402
from openfl.component.collaborator import Collaborator  # noqa: E402
from openfl.interface.aggregation_functions import WeightedAverage  # noqa: E402
from openfl.pipelines import NoCompressionPipeline  # noqa: E402
from openfl.protocols import utils as proto_utils  # noqa: E402
from openfl.transport.grpc.aggregator_client import AggregatorGRPCClient  # noqa: E402
from openfl.transport.rest.aggregator_client import AggregatorRESTClient  # noqa: E402
from openfl.utilities import TensorKey  # noqa: E402
from openfl_serving import (  # noqa: E402
    CreatedServers,
    ServeFailed,
    make_tls_server,
    serve_in_thread,
    stop_on_signals,
)

log = logging.getLogger("openfl_federation")

HOST = "127.0.0.1"
N_CLASSES = 3
N_FEATURES = 4
BATCH_SIZE = 16
LEARNING_RATE = 0.01
OPENFL_SLEEP_SECONDS = 10  # what Aggregator._get_sleep_time returns in OpenFL 1.9

TASK_GROUP_NAME = "learning"
TASK_NAMES = ("aggregated_model_validation", "train", "locally_tuned_model_validation")

# Collaborator-side task_config (what a plan's `tasks` section gives the Collaborator).
TASK_CONFIG = {
    "aggregated_model_validation": {"function": "validate_task", "kwargs": {"apply": "global"}},
    "train": {"function": "train_task", "kwargs": {"epochs": 1}},
    "locally_tuned_model_validation": {"function": "validate_task", "kwargs": {"apply": "local"}},
}

STATE_FILES = (
    "init.pbuf",
    "best.pbuf",
    "last.pbuf",
    "best.json",
    "last.json",
    "final.json",
    "tensor.db",
    "tensor.db-journal",
)


def keras_task_config() -> dict:
    """OpenFL's own plan/defaults/tasks_keras.yaml, as installed (what a Keras plan's `tasks` uses)."""
    import yaml

    import openfl

    path = os.path.join(
        os.path.dirname(openfl.__file__),
        "..",
        "openfl-workspace",
        "workspace",
        "plan",
        "defaults",
        "tasks_keras.yaml",
    )
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def task_config(args) -> dict:
    return keras_task_config() if args.task_runner == "keras-digits" else TASK_CONFIG


def compression_pipeline(args):
    """The plan's compression pipeline, built as Plan.build does (import the class, pass the
    settings as keyword arguments): a new instance for each component that takes one."""
    module, _, name = args.compression_pipeline.rpartition(".")
    return getattr(importlib.import_module(module), name)(**json.loads(args.compression_settings))


def initial_model() -> dict[str, np.ndarray]:
    return {
        "dense.weight": np.zeros((N_CLASSES, N_FEATURES), dtype=np.float32),
        "dense.bias": np.zeros((N_CLASSES,), dtype=np.float32),
    }


# ---- records ------------------------------------------------------------------------------------
def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    return str(o)


class JsonlWriter:
    """One JSON object per line, flushed after every line (a test may tail the file)."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._f = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, obj: dict) -> None:
        line = json.dumps(obj, default=_json_default, sort_keys=False)
        with self._lock:
            if self._f.closed:
                return
            self._f.write(line + "\n")
            self._f.flush()

    def close(self) -> None:
        with self._lock:
            if not self._f.closed:
                self._f.close()


class Records:
    def __init__(self, out_dir: str):
        self.arrivals = JsonlWriter(os.path.join(out_dir, "arrivals.jsonl"))
        self.metrics = JsonlWriter(os.path.join(out_dir, "metrics.jsonl"))
        self.rounds = JsonlWriter(os.path.join(out_dir, "rounds.jsonl"))
        self.errors = JsonlWriter(os.path.join(out_dir, "errors.jsonl"))
        # Extra (not required): the RPCs the Python collaborators' OpenFL clients make.
        self.client_rpcs = JsonlWriter(os.path.join(out_dir, "client_rpcs.jsonl"))
        self.requests = JsonlWriter(os.path.join(out_dir, "requests.jsonl"))

    def close(self) -> None:
        for w in (
            self.arrivals,
            self.metrics,
            self.rounds,
            self.errors,
            self.client_rpcs,
            self.requests,
        ):
            w.close()


def named_tensor_summary(nt) -> dict:
    shape = None
    for meta in nt.transformer_metadata:
        # NoCompressionPipeline's Float32NumpyArrayToBytes stores the shape in int_list
        # (empty for a 0-d metric); the first metadata entry is that transformer's.
        shape = [int(d) for d in meta.int_list]
        break
    return {
        "name": nt.name,
        "tags": list(nt.tags),
        "report": bool(nt.report),
        "lossless": bool(nt.lossless),
        "shape": shape,
    }


# ---- the task runner ----------------------------------------------------------------------------
def load_shard(path: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    shard = {}
    for split in ("train", "validation"):
        part = doc.get(split)
        if not isinstance(part, dict):
            raise ValueError(f"{path}: missing object '{split}'")
        labels = np.asarray(part.get("labels", []), dtype=np.int64).reshape(-1)
        features = np.asarray(part.get("features", []), dtype=np.float64).reshape(-1)
        n = labels.shape[0]
        if n == 0:
            raise ValueError(f"{path}: '{split}' has no samples")
        if features.shape[0] != n * N_FEATURES:
            raise ValueError(
                f"{path}: '{split}' has {features.shape[0]} feature values for {n} labels "
                f"(expected {n * N_FEATURES}: row-major samples x {N_FEATURES})"
            )
        if labels.min() < 0 or labels.max() >= N_CLASSES:
            raise ValueError(f"{path}: '{split}' labels must be in [0, {N_CLASSES})")
        shard[split] = (features.reshape(n, N_FEATURES), labels)
    return shard


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class NumpySoftmaxRunner:
    """Softmax regression (3 classes, 4 features) implementing what openfl's Collaborator calls on
    a task runner. Tensor keys and tags follow openfl/federated/task/runner_pt.py:

    - required keys: train_task and validate_task(apply=global) need GLOBAL ("model",) keys,
      validate_task(apply=local) needs LOCAL ("trained",) keys (relative round 0).
    - validate_task returns {TensorKey("accuracy", col, round, True, ("metric", "validate_agg"|
      "validate_local")): 0-d float32}, {}.
    - train_task returns {TensorKey("loss", col, round, True, ("metric",)): 0-d float32,
      TensorKey(<weight>, col, round, False, ("trained",)): float32 array, ...}, {}.

    logits = W x + b, W = dense.weight [3,4], b = dense.bias [3]. Training: `epochs` epochs
    (task_config says 1) of mini-batch SGD on cross-entropy, batch 16, lr 0.01; the sample order of
    each epoch is np.random.default_rng(round_num + 1).permutation(n_train) (one Generator per
    train_task call, one permutation per epoch); the last batch may be short. Per batch:
    grad_W = mean_i (softmax(z_i) - onehot_i) outer x_i, grad_b = mean_i (softmax(z_i) - onehot_i).
    The reported loss is, like runner_pt's train_, the mean over batches of each batch's mean
    cross-entropy computed before that batch's update. Accuracy = fraction of argmax(logits) ==
    label (np.argmax: ties go to the lowest class). All math in float64, outputs float32.
    """

    WEIGHT = "dense.weight"
    BIAS = "dense.bias"
    TENSOR_NAMES = (WEIGHT, BIAS)

    def __init__(self, shard, batch_size: int = BATCH_SIZE, learning_rate: float = LEARNING_RATE):
        self.x_train, self.y_train = shard["train"]
        self.x_valid, self.y_valid = shard["validation"]
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.opt_treatment = "RESET"

    # -- what Collaborator calls --
    def set_optimizer_treatment(self, opt_treatment):
        # Plain SGD keeps no optimizer state, so every treatment behaves like RESET.
        self.opt_treatment = opt_treatment

    def get_required_tensorkeys_for_function(self, func_name, **kwargs):
        if func_name == "train_task":
            return [TensorKey(n, "GLOBAL", 0, False, ("model",)) for n in self.TENSOR_NAMES]
        if func_name == "validate_task":
            apply = kwargs.get("apply")
            if apply == "global":
                return [TensorKey(n, "GLOBAL", 0, False, ("model",)) for n in self.TENSOR_NAMES]
            if apply == "local":
                return [TensorKey(n, "LOCAL", 0, False, ("trained",)) for n in self.TENSOR_NAMES]
            raise ValueError(f"validate_task: apply must be 'global' or 'local', got {apply!r}")
        raise ValueError(f"NumpySoftmaxRunner has no function {func_name!r}")

    def get_train_data_size(self):
        return int(self.y_train.shape[0])

    def get_valid_data_size(self):
        return int(self.y_valid.shape[0])

    def train_task(self, col_name, round_num, input_tensor_dict, epochs=1, **kwargs):
        w, b = self._weights(input_tensor_dict)
        x, y = self.x_train, self.y_train
        n = y.shape[0]
        onehot = np.eye(N_CLASSES, dtype=np.float64)[y]
        rng = np.random.default_rng(round_num + 1)
        batch_losses = []
        for _ in range(int(epochs)):
            order = rng.permutation(n)
            for start in range(0, n, self.batch_size):
                idx = order[start : start + self.batch_size]
                xb, tb = x[idx], onehot[idx]
                log_p = _log_softmax(xb @ w.T + b)
                batch_losses.append(float(-(tb * log_p).sum(axis=1).mean()))
                g = np.exp(log_p) - tb  # [m, 3]
                grad_w = g.T @ xb / idx.shape[0]  # mean over the batch of g_i outer x_i
                grad_b = g.mean(axis=0)
                w = w - self.learning_rate * grad_w
                b = b - self.learning_rate * grad_b
        loss = float(np.mean(batch_losses)) if batch_losses else 0.0
        global_out = {
            TensorKey("loss", col_name, round_num, True, ("metric",)): np.array(
                loss, dtype=np.float32
            ),
            TensorKey(self.WEIGHT, col_name, round_num, False, ("trained",)): w.astype(np.float32),
            TensorKey(self.BIAS, col_name, round_num, False, ("trained",)): b.astype(np.float32),
        }
        return global_out, {}

    def validate_task(self, col_name, round_num, input_tensor_dict, **kwargs):
        apply = kwargs.get("apply")
        if apply not in ("global", "local"):
            raise ValueError(f"validate_task: apply must be 'global' or 'local', got {apply!r}")
        w, b = self._weights(input_tensor_dict)
        pred = np.argmax(self.x_valid @ w.T + b, axis=1)
        accuracy = float(np.mean(pred == self.y_valid))
        tags = ("metric", "validate_local" if apply == "local" else "validate_agg")
        return {
            TensorKey("accuracy", col_name, round_num, True, tags): np.array(
                accuracy, dtype=np.float32
            )
        }, {}

    def _weights(self, input_tensor_dict):
        w = np.asarray(input_tensor_dict[self.WEIGHT], dtype=np.float64)
        b = np.asarray(input_tensor_dict[self.BIAS], dtype=np.float64)
        if w.shape != (N_CLASSES, N_FEATURES) or b.shape != (N_CLASSES,):
            raise ValueError(f"unexpected model shapes: weight {w.shape}, bias {b.shape}")
        return w.copy(), b.copy()


# ---- the aggregator -----------------------------------------------------------------------------
class RecordingMetricQueue(queue.Queue):
    """Aggregator.metric_queue replacement: records every dict put on it (and still queues it)."""

    def __init__(self, writer: JsonlWriter):
        super().__init__()
        self._writer = writer

    def put(self, item, block=True, timeout=None):
        rec = dict(item) if isinstance(item, dict) else {"value": item}
        tags = self._caller_tags(sys._getframe(1), rec.get("metric_origin"))
        if tags is not None:
            rec["tags"] = tags
        self._writer.write(rec)
        super().put(item, block, timeout)

    @staticmethod
    def _caller_tags(frame, origin):
        # Optional and best effort: the TensorKey is a local of the Aggregator method that puts
        # the dict (agg_tensor_key in _compute_validation_related_task_metrics, tensor_key in
        # process_task_results). Tags are reported as the collaborator sent them (without
        # "compressed" and without the collaborator-name tag the aggregator adds).
        try:
            loc = frame.f_locals
            key = loc.get("agg_tensor_key") or loc.get("tensor_key")
            if key is None or len(key) != 5:
                return None
            return [t for t in key[4] if t != origin]
        except Exception:  # noqa: BLE001
            return None


def build_aggregator(args, records: Records) -> Aggregator:
    tasks = {
        name: {**copy.deepcopy(task_config(args)[name]), "aggregation_type": WeightedAverage()}
        for name in TASK_NAMES
    }
    task_groups = [
        {
            "name": TASK_GROUP_NAME,
            "percentage": 1.0,
            "collaborators": list(args.collaborators),
            "tasks": list(TASK_NAMES),
        }
    ]
    assigner = StaticGroupedAssigner(
        task_groups=task_groups,
        tasks=tasks,
        authorized_cols=list(args.collaborators),
        rounds_to_train=args.rounds,
    )

    def on_round_end(round_num, logs=None):
        records.rounds.write({"round": int(round_num), "logs": dict(logs or {})})

    aggregator = Aggregator(
        aggregator_uuid=args.aggregator_uuid,
        federation_uuid=args.federation_uuid,
        authorized_cols=list(args.collaborators),
        init_state_path=os.path.join(args.out_dir, "init.pbuf"),
        best_state_path=os.path.join(args.out_dir, "best.pbuf"),
        last_state_path=os.path.join(args.out_dir, "last.pbuf"),
        assigner=assigner,
        use_delta_updates=args.use_delta_updates,
        rounds_to_train=args.rounds,
        # Default 2, not OpenFL's 1: with delta downloads, a collaborator asks in round r+1 for
        # (name, r+1, ("aggregated", "delta")); Aggregator._nparray_to_named_tensor then builds the
        # delta against the round-r model (TensorKey(name, uuid, round_number - 1, ..., ("model",)))
        # and asserts it is present. TensorDB.clean_up(db_store_rounds) runs at the end of round r,
        # after round_number became r+1 and the round-(r+1) model was cached, and keeps only rounds
        # > max_round - db_store_rounds: with 1 the round-r model is gone and every delta download
        # fails ("The original model layer should be present ..."); 2 keeps it.
        db_store_rounds=args.db_store_rounds,
        # With --init-model the Aggregator reads init_state_path itself (utils.load_proto), as it
        # does with the save/init.pbuf `fx plan initialize` writes.
        initial_tensor_dict=None if args.init_model else initial_model(),
        write_logs=False,  # MetricWriter would write to ./logs in the CWD
        save_native_model=False,
        callbacks=[LambdaCallback(on_round_end=on_round_end)],
        persist_checkpoint=True,
        persistent_db_path=os.path.join(args.out_dir, "tensor.db"),
        compression_pipeline=compression_pipeline(args),
    )
    aggregator.metric_queue = RecordingMetricQueue(records.metrics)
    return aggregator


def _record_error(records: Records, where: str, exc: BaseException, **context) -> None:
    if getattr(exc, "_openfl_federation_recorded", False):
        return
    try:
        exc._openfl_federation_recorded = True
    except Exception:  # noqa: BLE001
        pass
    records.errors.write(
        {
            "where": where,
            "type": type(exc).__name__,
            "message": str(exc),
            "time": time.time(),
            **context,
        }
    )
    log.error("%s raised %s: %s", where, type(exc).__name__, exc)


def instrument_aggregator(aggregator: Aggregator, records: Records, ready: threading.Event):
    real_get_tasks = aggregator.get_tasks
    real_get_tensor = aggregator.get_aggregated_tensor
    real_send = aggregator.send_local_task_results
    real_all_quit = aggregator.all_quit_jobs_sent

    def get_tasks(collaborator_name):
        try:
            return real_get_tasks(collaborator_name)
        except BaseException as e:
            _record_error(records, "Aggregator.get_tasks", e, collaborator=collaborator_name)
            raise

    def get_aggregated_tensor(
        tensor_name, round_number, report, tags, require_lossless, requested_by
    ):
        # Every request as it reached the aggregator, from any collaborator (ours included).
        records.requests.write(
            {
                "collaborator": requested_by,
                "tensor_name": tensor_name,
                "round": int(round_number),
                "report": bool(report),
                "tags": list(tags),
                "require_lossless": bool(require_lossless),
            }
        )
        try:
            return real_get_tensor(
                tensor_name, round_number, report, tags, require_lossless, requested_by
            )
        except BaseException as e:
            _record_error(
                records,
                "Aggregator.get_aggregated_tensor",
                e,
                collaborator=requested_by,
                tensor_name=tensor_name,
                round=int(round_number),
                report=bool(report),
                tags=list(tags),
            )
            raise

    def send_local_task_results(
        collaborator_name, round_number, task_name, data_size, named_tensors
    ):
        # Recorded BEFORE the aggregator sees it, so uploads it ignores (duplicates, wrong round,
        # after the end) are counted too.
        records.arrivals.write(
            {
                "collaborator": collaborator_name,
                "round": int(round_number),
                "task": task_name,
                "data_size": int(data_size),
                "tensors": [named_tensor_summary(nt) for nt in named_tensors],
            }
        )
        try:
            return real_send(collaborator_name, round_number, task_name, data_size, named_tensors)
        except BaseException as e:
            _record_error(
                records,
                "Aggregator.send_local_task_results",
                e,
                collaborator=collaborator_name,
                round=int(round_number),
                task=task_name,
            )
            raise

    def all_quit_jobs_sent():
        # AggregatorGRPCServer.serve() calls this for the first time right after server.start().
        ready.set()
        return real_all_quit()

    aggregator.get_tasks = get_tasks
    aggregator.get_aggregated_tensor = get_aggregated_tensor
    aggregator.send_local_task_results = send_local_task_results
    aggregator.all_quit_jobs_sent = all_quit_jobs_sent
    return real_all_quit


def instrument_server(server, records: Records) -> None:
    """Records exceptions the AggregatorGRPCServer handlers raise outside the Aggregator (header
    asserts in check_request, context.abort for a bad CN, ...). Bound on the instance before
    serve() registers it, so add_AggregatorServicer_to_server picks the wrappers up."""
    for name in ("Ping", "GetTasks", "GetAggregatedTensor", "SendLocalTaskResults"):
        real = getattr(server, name)

        def wrapper(request, context, _real=real, _name=name):
            try:
                return _real(request, context)
            except BaseException as e:
                sender = None
                try:
                    sender = request.header.sender
                except Exception:  # noqa: BLE001 - a stream request has no header
                    pass
                _record_error(records, f"AggregatorGRPCServer.{_name}", e, collaborator=sender)
                raise

        setattr(server, name, wrapper)


# ---- Python collaborators ------------------------------------------------------------------------
def instrument_client(client, name: str, records: Records) -> None:
    """Logs the GetAggregatedTensor requests and uploads the real Collaborator makes."""
    real_get = client.get_aggregated_tensor
    real_send = client.send_local_task_results

    def get_aggregated_tensor(tensor_name, round_number, report, tags, require_lossless):
        nt = real_get(tensor_name, round_number, report, tags, require_lossless)
        records.client_rpcs.write(
            {
                "collaborator": name,
                "rpc": "GetAggregatedTensor",
                "tensor_name": tensor_name,
                "round": int(round_number),
                "report": bool(report),
                "tags": list(tags),
                "require_lossless": bool(require_lossless),
                "response": named_tensor_summary(nt),
            }
        )
        log.info(
            "[%s] GetAggregatedTensor %s round %d tags %s -> tags %s",
            name,
            tensor_name,
            round_number,
            list(tags),
            list(nt.tags),
        )
        return nt

    def send_local_task_results(round_number, task_name, data_size=None, named_tensors=None):
        records.client_rpcs.write(
            {
                "collaborator": name,
                "rpc": "SendLocalTaskResults",
                "round": int(round_number),
                "task": task_name,
                "data_size": int(data_size) if data_size is not None else None,
                "tensors": [named_tensor_summary(nt) for nt in named_tensors or []],
            }
        )
        return real_send(round_number, task_name, data_size, named_tensors)

    client.get_aggregated_tensor = get_aggregated_tensor
    client.send_local_task_results = send_local_task_results


class PythonCollaborator:
    def __init__(self, spec: dict, args, port: int, records: Records):
        self.name = spec["name"]
        if args.task_runner == "keras-digits":
            from digits_keras import keras_runner

            runner = keras_runner(spec["shard"])
        else:
            runner = NumpySoftmaxRunner(load_shard(spec["shard"]))
        # The plan's transport_protocol, as Plan.get_client picks the client class.
        client_class = (
            AggregatorRESTClient if args.transport_protocol == "rest" else AggregatorGRPCClient
        )
        client = client_class(
            agg_addr=HOST,
            agg_port=port,
            aggregator_uuid=args.aggregator_uuid,
            federation_uuid=args.federation_uuid,
            collaborator_name=self.name,
            use_tls=True,
            require_client_auth=True,
            root_certificate=args.root_ca,
            certificate=spec["cert"],
            private_key=spec["key"],
        )
        instrument_client(client, self.name, records)
        self.collaborator = Collaborator(
            collaborator_name=self.name,
            aggregator_uuid=args.aggregator_uuid,
            federation_uuid=args.federation_uuid,
            client=client,
            task_runner=runner,
            task_config=copy.deepcopy(task_config(args)),
            opt_treatment=args.opt_treatment,
            use_delta_updates=args.use_delta_updates,
            compression_pipeline=compression_pipeline(args),
            callbacks=[],
        )
        self.error: str | None = None
        self.thread = threading.Thread(
            target=self._run, name=f"collaborator-{self.name}", daemon=True
        )

    def _run(self):
        try:
            self.collaborator.run()
            log.info("collaborator %s finished", self.name)
        except BaseException:  # noqa: BLE001
            self.error = traceback.format_exc()


# ---- main ---------------------------------------------------------------------------------------
def parse_bool(value: str) -> bool:
    v = value.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def parse_python_collaborator(value: str) -> dict:
    parts = value.split(",")
    if len(parts) != 4 or not all(p.strip() for p in parts):
        raise argparse.ArgumentTypeError(f"expected NAME,CERT,KEY,SHARD_JSON, got {value!r}")
    name, cert, key, shard = (p.strip() for p in parts)
    return {"name": name, "cert": cert, "key": key, "shard": shard}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root-ca", required=True, help="PEM CA that signed all certificates")
    p.add_argument("--cert", required=True, help="PEM server certificate")
    p.add_argument("--key", required=True, help="PEM server private key")
    p.add_argument("--port", type=int, default=0, help="listen port on 127.0.0.1; 0 = pick one")
    p.add_argument("--aggregator-uuid", required=True)
    p.add_argument("--federation-uuid", required=True)
    p.add_argument(
        "--collaborators", required=True, help="ALL authorised collaborator names, comma separated"
    )
    p.add_argument(
        "--python-collaborator",
        action="append",
        default=[],
        type=parse_python_collaborator,
        metavar="NAME,CERT,KEY,SHARD_JSON",
        help="a collaborator this script runs itself (repeatable)",
    )
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--task-runner",
        choices=("numpy-softmax", "keras-digits"),
        default="numpy-softmax",
        help="what the Python collaborators run: the numpy softmax runner on JSON shards, or "
        "OpenFL's KerasTaskRunner (Keras 3 on JAX) with the digits CNN on CSV shards",
    )
    p.add_argument(
        "--init-model",
        help="the initial model file (a ModelProto, as fx plan initialize writes save/init.pbuf); "
        "default: the softmax runner's zero model",
    )
    p.add_argument("--use-delta-updates", type=parse_bool, default=True, metavar="true|false")
    p.add_argument(
        "--opt-treatment",
        choices=("RESET", "CONTINUE_LOCAL", "CONTINUE_GLOBAL"),
        default="RESET",
        help="the plan's collaborator.settings.opt_treatment, for the Python collaborators",
    )
    p.add_argument("--db-store-rounds", type=int, default=2)
    p.add_argument(
        "--compression-pipeline",
        default="openfl.pipelines.NoCompressionPipeline",
        help="the plan's compression_pipeline.template (aggregator and Python collaborators)",
    )
    p.add_argument(
        "--compression-settings",
        default="{}",
        help="the plan's compression_pipeline.settings, as JSON",
    )
    p.add_argument(
        "--sleep-seconds",
        type=int,
        default=OPENFL_SLEEP_SECONDS,
        help="sleep_time the aggregator sends when a collaborator has nothing to do (OpenFL: 10)",
    )
    p.add_argument(
        "--transport-protocol",
        choices=("grpc", "rest"),
        default="grpc",
        help="the plan's network.settings.transport_protocol: AggregatorGRPCServer and "
        "AggregatorGRPCClient, or AggregatorRESTServer and AggregatorRESTClient (default grpc)",
    )
    p.add_argument("--out-dir", required=True)
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    args.collaborators = [c.strip() for c in args.collaborators.split(",") if c.strip()]
    if not args.collaborators:
        p.error("--collaborators must name at least one collaborator")
    if len(set(args.collaborators)) != len(args.collaborators):
        p.error("--collaborators has duplicate names")
    names = [c["name"] for c in args.python_collaborator]
    if len(set(names)) != len(names):
        p.error("--python-collaborator names must be distinct")
    unknown = [n for n in names if n not in args.collaborators]
    if unknown:
        p.error(f"--python-collaborator not in --collaborators: {','.join(unknown)}")
    if args.task_runner == "keras-digits" and not args.init_model:
        p.error("--task-runner keras-digits needs --init-model")
    if args.rounds < 1:
        p.error("--rounds must be >= 1")
    if args.sleep_seconds < 0:
        p.error("--sleep-seconds must be >= 0")
    if not 0 <= args.port <= 65535:
        p.error("--port must be in 0..65535")
    return args


def write_model_json(pbuf_path: str, json_path: str, pipeline) -> None:
    # The Aggregator writes its model files through its compression pipeline.
    model = proto_utils.load_proto(pbuf_path)
    tensors, round_number = proto_utils.deconstruct_model_proto(
        model, compression_pipeline=pipeline
    )
    doc = {
        "round": int(round_number),
        "tensors": {
            name: {
                "shape": list(np.asarray(arr).shape),
                "values": np.asarray(arr, dtype=np.float64).reshape(-1).tolist(),
            }
            for name, arr in tensors.items()
        },
    }
    tmp = json_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f)
        f.write("\n")
    os.replace(tmp, json_path)


def write_final_model_json(aggregator: Aggregator, names, json_path: str) -> None:
    """Extra record: the model aggregated in the last round (round R = rounds_to_train).

    OpenFL never writes it to a .pbuf: last.pbuf is saved at the end of round r with the round-r
    model, i.e. the model the collaborators were sent in the last round, not the one aggregated
    from it (that one only goes to the persistent db's next_round_tensors table and TensorDB).
    """
    round_number = int(aggregator.round_number)
    tensors = {}
    for name in names:
        arr = aggregator.tensor_db.get_tensor_from_cache(
            TensorKey(name, aggregator.uuid, round_number, False, ("model",))
        )
        if arr is None:
            log.warning("final model tensor %s (round %d) not in the TensorDB", name, round_number)
            return
        tensors[name] = {
            "shape": list(np.asarray(arr).shape),
            "values": np.asarray(arr, dtype=np.float64).reshape(-1).tolist(),
        }
    tmp = json_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"round": round_number, "tensors": tensors}, f)
        f.write("\n")
    os.replace(tmp, json_path)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, args.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s",
    )
    files = [args.root_ca, args.cert, args.key] + ([args.init_model] if args.init_model else [])
    for c in args.python_collaborator:
        files += [c["cert"], c["key"], c["shard"]]
    for path in files:
        if not os.path.isfile(path):
            log.error("file not found: %s", path)
            return 2
    os.makedirs(args.out_dir, exist_ok=True)
    # Start from a clean slate: a tensor.db left by an earlier run would make the Aggregator
    # recover (resume) that run, and stale best/last files would be mistaken for this run's.
    init_bytes = None
    if args.init_model:
        with open(args.init_model, "rb") as f:
            init_bytes = f.read()
    for name in STATE_FILES:
        path = os.path.join(args.out_dir, name)
        if os.path.exists(path):
            os.remove(path)
    if init_bytes is not None:
        # Where the Aggregator reads it (init_state_path), as `fx plan initialize` leaves it.
        with open(os.path.join(args.out_dir, "init.pbuf"), "wb") as f:
            f.write(init_bytes)
    records = Records(args.out_dir)

    if args.use_delta_updates and "aggregator" not in args.aggregator_uuid:
        # TensorCodec.apply_delta only keeps the tags of an uploaded delta when the origin (the
        # aggregator uuid) contains "aggregator"; otherwise the reconstructed tensor is re-tagged
        # ("model",) and the round cannot be aggregated.
        log.warning(
            "--aggregator-uuid %r does not contain 'aggregator': OpenFL's aggregator mis-tags "
            "delta uploads (TensorCodec.apply_delta) and the first round will fail",
            args.aggregator_uuid,
        )

    if args.sleep_seconds != OPENFL_SLEEP_SECONDS:
        # Test-speed setting only: OpenFL's Aggregator._get_sleep_time is a staticmethod that
        # always returns 10 (seconds a collaborator with nothing to do waits before asking again).
        # Replaced on the class in THIS process only; OpenFL's files are not touched.
        sleep_seconds = args.sleep_seconds
        Aggregator._get_sleep_time = staticmethod(lambda: sleep_seconds)
        assert openfl_aggregator_module.Aggregator._get_sleep_time() == sleep_seconds

    stop = stop_on_signals()
    created = CreatedServers()
    stop_servers = created.stop

    aggregator = build_aggregator(args, records)
    ready = threading.Event()
    all_quit_jobs_sent = instrument_aggregator(aggregator, records, ready)

    def make(port):
        ready.clear()
        server = make_tls_server(
            args.transport_protocol, aggregator, HOST, port, args.root_ca, args.cert, args.key
        )
        if args.transport_protocol == "grpc":
            # The REST server's refusals are Flask aborts inside its routes; not instrumented.
            instrument_server(server, records)
        return server, ready

    try:
        started = serve_in_thread(HOST, args.port, make, stop)
    except ServeFailed:
        records.close()
        return 1
    if started is None:
        stop_servers(0)
        records.close()
        return 0
    _grpc_server, port, _serve_thread = started

    sys.stdout.write(json.dumps({"ready": True, "port": port}) + "\n")
    sys.stdout.flush()
    log.info(
        "OpenFL Aggregator on %s:%d (aggregator %s, federation %s, collaborators %s, rounds %d, "
        "use_delta_updates %s, db_store_rounds %d, sleep %ds)",
        HOST,
        port,
        args.aggregator_uuid,
        args.federation_uuid,
        ",".join(args.collaborators),
        args.rounds,
        args.use_delta_updates,
        args.db_store_rounds,
        args.sleep_seconds,
    )

    collaborators = []
    try:
        for spec in args.python_collaborator:
            collaborators.append(PythonCollaborator(spec, args, port, records))
    except BaseException:  # noqa: BLE001 - bad shard etc.
        sys.stderr.write(traceback.format_exc())
        stop_servers(0)
        records.close()
        return 1
    for c in collaborators:
        c.thread.start()

    outcome = "stopped"
    while not stop.is_set():
        failed = [c for c in collaborators if c.error is not None]
        if failed:
            outcome = "failed"
            break
        if all_quit_jobs_sent():
            outcome = "done"
            break
        stop.wait(0.1)

    if outcome == "stopped":
        stop_servers(0.2)
        records.close()
        log.info("stopped")
        return 0

    if outcome == "done":
        # Every authorised collaborator has been sent quit: the Python ones leave run() as soon as
        # the answer reaches them. Bounded, in case a quit answer got lost (OpenFL's client would
        # then retry GetTasks forever); the threads are daemons.
        deadline = time.monotonic() + 30
        for c in collaborators:
            while c.thread.is_alive() and not stop.is_set() and time.monotonic() < deadline:
                c.thread.join(0.1)
            if c.thread.is_alive() and not stop.is_set():
                log.warning("collaborator %s has not finished 30 s after quit", c.name)
        # The grace period lets the last in-flight responses (the quit answers) reach the clients.
        stop_servers(1.0)
        failed = [c for c in collaborators if c.error is not None]
        if failed:
            outcome = "failed"
        elif stop.is_set():
            records.close()
            return 0

    if outcome == "failed":
        for c in collaborators:
            if c.error is not None:
                sys.stderr.write(f"collaborator {c.name} raised:\n{c.error}")
        stop_servers(0)
        records.close()
        return 1

    for name in ("best", "last"):
        pbuf = os.path.join(args.out_dir, f"{name}.pbuf")
        if os.path.isfile(pbuf):
            write_model_json(
                pbuf, os.path.join(args.out_dir, f"{name}.json"), compression_pipeline(args)
            )
    names = (
        list(proto_utils.deconstruct_model_proto(
            proto_utils.load_proto(args.init_model), NoCompressionPipeline()
        )[0])
        if args.init_model
        else list(initial_model())
    )
    write_final_model_json(aggregator, names, os.path.join(args.out_dir, "final.json"))
    records.close()
    sys.stdout.write(json.dumps({"done": True, "rounds": int(aggregator.round_number)}) + "\n")
    sys.stdout.flush()
    log.info("experiment finished after %d rounds", aggregator.round_number)
    return 0


if __name__ == "__main__":
    exit_code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    # os._exit, not sys.exit: grpc's handler threads are ThreadPoolExecutor workers, which the
    # interpreter joins at exit, and Aggregator.get_aggregated_tensor can keep one busy for up to
    # 60 s (it polls every 5 s for a tensor that does not exist yet). Daemon collaborator threads
    # blocked in OpenFL's retry-forever client would not hold the exit, but those workers would.
    os._exit(exit_code)
