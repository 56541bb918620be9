"""Edits the plan/plan.yaml `fx workspace create --template no-op` wrote, for fx-workspace.ts:
our numpy task runner and CSV loader, OpenFL's three default tasks, rounds, delta updates and
the aggregator's port, and optionally the compression pipeline
({"compression_pipeline": {"template": "openfl.pipelines.STCPipeline", "settings": {...}}})
and the transport ({"transport_protocol": "rest"});
with {"analytics": {"collaborator_count": N}} the federated_analytics template keeps its own
runner, loader and tasks, and only the port and the shard count are set.
Usage: fx_workspace_plan.py PLAN_YAML '{"rounds": 3, ...}'
"""

import json
import sys

import yaml

TASKS = ("aggregated_model_validation", "train", "locally_tuned_model_validation")


def validation(apply):
    # OpenFL's default validate task (as plan/defaults/tasks_keras.yaml writes it).
    kwargs = {"apply": apply, "batch_size": 16, "metrics": ["accuracy"]}
    return {"function": "validate_task", "kwargs": kwargs}


def main(path, options):
    with open(path, encoding="utf-8") as f:
        plan = yaml.safe_load(f)
    analytics = options.get("analytics")
    if analytics is not None:
        # OpenFL's federated_analytics template as it ships: only the port and the shard count.
        plan["network"].setdefault("settings", {})["agg_port"] = int(options["agg_port"])
        count = int(analytics["collaborator_count"])
        plan["data_loader"]["settings"]["collaborator_count"] = count
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(plan, f, sort_keys=False)
        return
    plan["task_runner"] = {"template": "src.taskrunner.NumpySoftmaxTaskRunner", "settings": {}}
    plan["data_loader"] = {"template": "src.dataloader.CsvShardLoader", "settings": {}}
    plan["tasks"] = {
        "aggregated_model_validation": validation("global"),
        "train": {
            "function": "train_task",
            "kwargs": {"batch_size": 16, "epochs": 1, "metrics": ["loss"]},
        },
        "locally_tuned_model_validation": validation("local"),
    }
    # One task group: every collaborator runs the three tasks every round (the no-op template's
    # assigner also has an empty "evaluation" group).
    plan["assigner"]["settings"]["task_groups"] = [
        {"name": "learning", "percentage": 1.0, "tasks": list(TASKS)}
    ]
    delta = bool(options["use_delta_updates"])
    plan["aggregator"]["settings"]["rounds_to_train"] = int(options["rounds"])
    # The aggregator has the setting too (default true): both sides agree.
    plan["aggregator"]["settings"]["use_delta_updates"] = delta
    plan["collaborator"]["settings"]["use_delta_updates"] = delta
    plan["network"]["settings"]["agg_port"] = int(options["agg_port"])
    protocol = options.get("transport_protocol")
    if protocol is not None:
        # OpenFL's plan/defaults/network.yaml says grpc; "rest" makes fx aggregator start serve
        # AggregatorRESTServer and fx collaborator start use AggregatorRESTClient.
        plan["network"]["settings"]["transport_protocol"] = protocol
    pipeline = options.get("compression_pipeline")
    if pipeline is not None:
        plan["compression_pipeline"] = {
            "defaults": "plan/defaults/compression_pipeline.yaml",
            "template": pipeline["template"],
            "settings": dict(pipeline.get("settings", {})),
        }
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(plan, f, sort_keys=False)


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
