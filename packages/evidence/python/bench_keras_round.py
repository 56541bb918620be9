"""Benchmark (g), the Python side: seconds per round of OpenFL's own KerasTaskRunner (Keras 3 on
JAX) on one digits shard, the tasks of OpenFL's tasks_keras.yaml as its Collaborator calls them
(aggregated_model_validation, train, locally_tuned_model_validation), no wire.

    python bench_keras_round.py --shard FILE.csv --rounds N
prints {"rounds": [{"train_s": .., "validate_s": ..}, ...]} (round 0 includes JAX's compilation).
"""

from __future__ import annotations

import os

# openfl.federated imports keras, whose default backend (TensorFlow) is not installed: JAX is.
os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

warnings.filterwarnings("ignore")

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "interop", "python"))

from digits_keras import keras_runner  # noqa: E402
from openfl_federation import keras_task_config  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--shard", required=True)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    tasks = keras_task_config()
    runner = keras_runner(args.shard)
    runner.set_optimizer_treatment("RESET")
    weights = runner.get_tensor_dict(with_opt_vars=False)
    out = []
    for r in range(args.rounds):
        t0 = time.perf_counter()
        runner.validate_task("bench", r, weights, **tasks["aggregated_model_validation"]["kwargs"])
        t1 = time.perf_counter()
        global_out, _ = runner.train_task("bench", r, weights, **tasks["train"]["kwargs"])
        t2 = time.perf_counter()
        trained = {k[0]: v for k, v in global_out.items() if "trained" in k[4]}
        runner.validate_task("bench", r, trained, **tasks["locally_tuned_model_validation"]["kwargs"])
        t3 = time.perf_counter()
        weights = trained
        out.append({"train_s": t2 - t1, "validate_s": (t1 - t0) + (t3 - t2)})
    print(json.dumps({"rounds": out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
