#!/usr/bin/env python3
"""What OpenFL 1.9's own Plan.parse derives from plans: for each plan path on the command line
(and an empty cols.yaml), one JSON line on stdout with the uuids, the aggregator address and
port and the whole merged plan (every section's settings, defaults merged, auto resolved), or
the error Plan.parse raised. Set FQDN for plans whose agg_addr is auto. Test oracle for the collaborator's workspace reader."""

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

from openfl.federated.plan.plan import Plan  # noqa: E402


def main() -> int:
    cols = Path(tempfile.mkdtemp()) / "cols.yaml"
    cols.write_text("collaborators: []\n")
    for path in sys.argv[1:]:
        try:
            plan = Plan.parse(Path(path), cols_config_path=cols, resolve=True)
            settings = plan.config["network"]["settings"]
            out = {
                "plan": path,
                "federation_uuid": plan.federation_uuid,
                "aggregator_uuid": plan.aggregator_uuid,
                "agg_addr": settings["agg_addr"],
                "agg_port": settings["agg_port"],
                "config": plan.config,
            }
        except Exception as error:  # noqa: BLE001 - reported to the test, which compares
            out = {"plan": path, "error": f"{type(error).__name__}: {error}"}
        # str() for what JSON has no form for (a date); the test compares as JSON.
        print(json.dumps(out, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
