#!/usr/bin/env bash
# Python <-> Python smoke check of the OpenFL interop scripts:
# makes a throwaway CA + server + collaborator certificates, starts openfl_server_fixture.py
# (OpenFL 1.9's real AggregatorGRPCServer), runs openfl_client_driver.py (OpenFL's real
# AggregatorGRPCClient) against it, checks the recorded JSON, the error paths and SIGTERM.
# Exits non-zero on any failure. Needs the venv from scripts/setup-python.sh (run it first, or
# set SMOKE_SETUP=1 to have this script run it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../../.." && pwd)"
py="$repo_root/.venv/bin/python"

if [ "${SMOKE_SETUP:-0}" = "1" ] || [ ! -x "$py" ]; then
  bash "$repo_root/scripts/setup-python.sh" >&2
fi

tmp="$(mktemp -d)"
fixture_pid=""
cleanup() {
  if [ -n "$fixture_pid" ] && kill -0 "$fixture_pid" 2>/dev/null; then
    kill -TERM "$fixture_pid" 2>/dev/null || true
    wait "$fixture_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "smoke: FAIL: $*" >&2
  if [ -f "$tmp/fixture.err" ]; then
    echo "---- fixture stderr (tail) ----" >&2
    tail -40 "$tmp/fixture.err" >&2
  fi
  exit 1
}

# ---- certificates ---------------------------------------------------------------------------
cd "$tmp"
ossl() { openssl "$@" >/dev/null 2>&1 || fail "openssl $1 failed"; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=smoke-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
ossl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
ossl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
  -extfile server.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext
for cn in collaborator1 collaborator2; do
  ossl req -newkey rsa:2048 -nodes -keyout "$cn.key" -out "$cn.csr" -subj "/CN=$cn"
  ossl x509 -req -in "$cn.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$cn.crt" -days 2 \
    -extfile client.ext
done

fed="plan.yaml_4ebcd576"
agg="aggregator_$fed"

# ---- fixture --------------------------------------------------------------------------------
"$py" "$here/openfl_server_fixture.py" \
  --root-ca ca.crt --cert server.crt --key server.key --port 0 \
  --aggregator-uuid "$agg" --federation-uuid "$fed" \
  --collaborators collaborator1,collaborator2 --record-dir "$tmp/rec" --rounds 2 \
  --tensor-wait 2 >fixture.out 2>fixture.err &
fixture_pid=$!

for _ in $(seq 1 150); do
  [ -s fixture.out ] && break
  kill -0 "$fixture_pid" 2>/dev/null || fail "fixture exited before it was ready"
  sleep 0.1
done
[ -s fixture.out ] || fail "fixture not ready after 15 s"
port="$("$py" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read()); assert d["ready"] is True; print(d["port"])' fixture.out)" \
  || fail "bad ready line: $(cat fixture.out)"
echo "smoke: fixture ready on port $port" >&2

drive() {
  "$py" "$here/openfl_client_driver.py" --port "$port" --root-ca ca.crt \
    --aggregator-uuid "$agg" --federation-uuid "$fed" --timeout 20 "$@"
}

# ---- happy path -----------------------------------------------------------------------------
drive --cert collaborator1.crt --key collaborator1.key --collaborator collaborator1 \
  --send-shape 3,4,5 --send-seed 7 --data-size 123 --metric loss=0.5 >run1.json 2>run1.err \
  || { cat run1.json run1.err >&2; fail "driver run 1 failed"; }

# Second run: the task is done for this round -> no tasks, sleep 10; the resend is a duplicate.
drive --cert collaborator1.crt --key collaborator1.key --collaborator collaborator1 \
  --ops get_tasks,send --task-name train --send-seed 8 >run2.json 2>run2.err \
  || { cat run2.json run2.err >&2; fail "driver run 2 failed"; }

# ---- error paths (no resend, so the real server's code surfaces) ----------------------------
set +e
drive --cert collaborator2.crt --key collaborator2.key --collaborator collaborator1 \
  --ops get_tasks --no-resend >cn.json 2>/dev/null
cn_rc=$?
drive --cert collaborator1.crt --key collaborator1.key --collaborator collaborator1 \
  --federation-uuid wrong_fed --ops ping --no-resend >fed.json 2>/dev/null
fed_rc=$?
drive --cert collaborator1.crt --key collaborator1.key --collaborator collaborator1 \
  --ops get_tensor --tensor-name missing --tensor-round 0 --no-resend >missing.json 2>/dev/null
missing_rc=$?
drive --cert collaborator1.crt --key collaborator1.key --collaborator collaborator1 \
  --ops ping --timeout 3 --port 1 >timeout.json 2>/dev/null
timeout_rc=$?
set -e

kill -0 "$fixture_pid" 2>/dev/null || fail "fixture exited early (serve() polls all_quit_jobs_sent)"

# ---- checks ---------------------------------------------------------------------------------
RUN1="$tmp/run1.json" RUN2="$tmp/run2.json" REC="$tmp/rec" \
CN_RC=$cn_rc FED_RC=$fed_rc MISSING_RC=$missing_rc TIMEOUT_RC=$timeout_rc TMP="$tmp" \
"$py" - <<'EOF' || fail "checks failed"
import glob, hashlib, json, os
import numpy as np

def load(p):
    with open(p) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    assert len(lines) == 1, f"{p}: expected exactly one JSON line, got {lines!r}"
    return json.loads(lines[0])

r1, r2 = load(os.environ["RUN1"]), load(os.environ["RUN2"])
assert r1["ok"] and r1["ping"] is True, r1
assert r1["tasks"] == ["train"] and r1["round"] == 0 and r1["quit"] is False, r1

expected = (np.arange(60, dtype=np.float32).reshape(3, 4, 5) / np.float32(7)).astype("<f4")
f = r1["fetched"]
assert f["tags"] == ["compressed", "model"] and f["decoded_tags"] == ["model"], f
assert f["lossless"] is True and f["report"] is False and f["round_number"] == 0, f
assert f["transformer_metadata"] == [{"int_list": [3, 4, 5], "int_to_float": {}, "bool_list": []}], f
assert f["shape"] == [3, 4, 5] and f["data_bytes_len"] == 240, f
assert f["sha256"] == hashlib.sha256(expected.tobytes()).hexdigest(), f
assert f["data_bytes_sha256"] == f["sha256"], f

s = r1["sent"]
sent = np.random.default_rng(7).standard_normal((3, 4, 5)).astype("<f4")
assert s["sha256"] == hashlib.sha256(sent.tobytes()).hexdigest(), s
assert s["tags"] == ["compressed", "trained"] and s["data_size"] == 123 and s["task_name"] == "train", s

rec_dir = os.environ["REC"]
rec = json.load(open(os.path.join(rec_dir, "results-r0-collaborator1-train.json")))
assert rec["ignored"] is False and rec["collaborator"] == "collaborator1", rec
assert rec["round"] == 0 and rec["task_name"] == "train" and rec["data_size"] == 123, rec
t0, t1 = rec["tensors"]
assert t0["name"] == "conv.weight" and t0["tags"] == ["compressed", "trained"], t0
assert t0["decoded_tags"] == ["trained"] and t0["lossless"] is True, t0
assert t0["sha256"] == s["sha256"] and t0["shape"] == [3, 4, 5] and t0["count"] == 60, t0
assert t0["first"] == s["first"] and abs(t0["sum"] - s["sum"]) < 1e-9, (t0, s)
assert t1["name"] == "loss" and t1["report"] is True and t1["tags"] == ["compressed", "metric"], t1
assert t1["shape"] == [] and t1["first"] == [0.5], t1
assert t1["transformer_metadata"] == [{"int_list": [], "int_to_float": {}, "bool_list": []}], t1

assert r2["ok"] and r2["tasks"] == [] and r2["sleep_time"] == 10 and r2["quit"] is False, r2
ignored = sorted(glob.glob(os.path.join(rec_dir, "ignored-*.json")))
assert len(ignored) == 1, ignored
ig = json.load(open(ignored[0]))
assert ig["ignored"] is True and ig["reason"] == "duplicate", ig
assert len(glob.glob(os.path.join(rec_dir, "results-*.json"))) == 1
assert not glob.glob(os.path.join(rec_dir, ".tmp-*")), "temp files left behind"

tmp = os.environ["TMP"]
cn = load(os.path.join(tmp, "cn.json"))
assert os.environ["CN_RC"] == "1" and cn["ok"] is False and cn["code"] == "UNAUTHENTICATED", cn
assert cn["error"] == "Invalid collaborator. CN: |collaborator2| collaborator_common_name: |collaborator1|", cn
fed = load(os.path.join(tmp, "fed.json"))
assert os.environ["FED_RC"] == "1" and fed["code"] == "UNKNOWN", fed
assert fed["error"].startswith("Exception calling application: Federation UUID in request header does not match."), fed
missing = load(os.path.join(tmp, "missing.json"))
assert os.environ["MISSING_RC"] == "1" and missing["code"] == "UNKNOWN", missing
assert "Aggregator does not have an aggregated tensor" in missing["error"], missing
to = load(os.path.join(tmp, "timeout.json"))
assert os.environ["TIMEOUT_RC"] == "2" and to["ok"] is False and to["code"] == "UNAVAILABLE", to
print("smoke: checks ok")
EOF

# ---- SIGTERM --------------------------------------------------------------------------------
start=$(date +%s%N)
kill -TERM "$fixture_pid"
wait "$fixture_pid" || fail "fixture exited non-zero on SIGTERM"
fixture_pid=""
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$elapsed_ms" -lt 2000 ] || fail "fixture took ${elapsed_ms} ms to stop on SIGTERM"
[ "$(wc -l < fixture.out)" -eq 1 ] || fail "fixture printed more than one stdout line"

echo "smoke: PASS (fixture stopped ${elapsed_ms} ms after SIGTERM)"
echo "1 passed, 0 failed"
