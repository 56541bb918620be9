"""PyYAML as the reference for the TypeScript loader/dumper (src/workspace/pyyaml-*.ts).

Reads JSON lines {"id": ..., "yaml": "<text>"} on stdin and answers, one JSON line each,
{"id", "dump": yaml.dump(yaml.safe_load(text)), "sha384": <hex of the dump as UTF-8>,
"string_keys": <every mapping key is a str>} or {"id", "error": "<type>: <message>"}.
One process serves a whole batch, so hundreds of cases cost a fraction of a second.
Test-only: it lives outside src/ so it is never published.
"""

import hashlib
import json
import sys

import yaml


def only_string_keys(value, seen):
    # Plans may only have str keys; PyYAML happily loads `1: x` as an int key, which the
    # TypeScript loader refuses on purpose, so the test needs to know.
    if isinstance(value, (dict, list)):
        if id(value) in seen:
            return True
        seen.add(id(value))
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and only_string_keys(item, seen) for key, item in value.items()
        )
    if isinstance(value, list):
        return all(only_string_keys(item, seen) for item in value)
    return True


def answer(request):
    try:
        data = yaml.safe_load(request["yaml"])
        dump = yaml.dump(data)
    except Exception as exc:  # noqa: BLE001 - any refusal is an answer (ValueError for bad dates)
        return {"id": request["id"], "error": f"{type(exc).__name__}: {exc}"}
    return {
        "id": request["id"],
        "dump": dump,
        "sha384": hashlib.sha384(dump.encode("utf-8")).hexdigest(),
        "string_keys": only_string_keys(data, set()),
    }


def main():
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(answer(json.loads(line))) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
