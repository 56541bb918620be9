// Seeded fault injection between the Node client and the reference aggregator: resets, stalls
// and corruption at random byte offsets during uploads and downloads. Repeat a run with
// FAULT_SEED=<seed printed below>.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { AggregatorGRPCClient } from "@openfl-connect/node";
import {
  type Direction,
  type Fault,
  type FaultProxy,
  startFaultProxy,
} from "@openfl-connect/test-support/fault-proxy";
import { activeResources, leftoversAfterClose } from "./active-resources.js";
import { type Federation, startFederation } from "./federation.js";
import { logUniformSize, MiB, modelTensor, sha256, trainedTensor } from "./payloads.js";
import { type SeededRandom, seededRandom, seedFrom } from "./seeded-random.js";

const SEED = seedFrom(process.env, "FAULT_SEED");
const LANES = 4;
const OPS_PER_LANE = Number(process.env.FAULT_OPS_PER_LANE ?? 50);
if (!Number.isInteger(OPS_PER_LANE) || OPS_PER_LANE < 1) {
  // A run with nothing in it would pass without testing anything.
  throw new RangeError(`FAULT_OPS_PER_LANE must be a whole number >= 1, got ${OPS_PER_LANE}`);
}
const COLLABORATORS_PER_LANE = 2;
const TASKS = Array.from({ length: 40 }, (_, i) => `task${i}`);
const MODEL_TENSORS = 6;
const MAX_PAYLOAD = 16 * MiB;

/**
 * Per-attempt deadline: a stalled attempt is abandoned after it (then resent). Downloads get
 * more time: the reference aggregator gzips responses (the client advertises gzip), which
 * makes a 16 MiB download ~4x slower (see docs/benchmarks.md).
 */
function attemptTimeoutMs(op: "upload" | "download", payloadBytes: number): number {
  const msPerMiB = op === "upload" ? 500 : 1000;
  return 1500 + Math.ceil((payloadBytes / MiB) * msPerMiB);
}

type Op =
  | { t: "upload"; collaborator: string; task: string; bytes: number; faults: Fault[] }
  | { t: "download"; tensor: string; bytes: number; faults: Fault[] };

interface OpOutcome {
  readonly op: Op;
  readonly ms: number;
  readonly boundMs: number;
  /** Faults that fired during the op (its lane runs one op at a time). */
  readonly fired: readonly Fault[];
  /** Attempts the client resent during the op. */
  readonly retries: number;
  readonly error?: unknown;
}

/** Bytes a client sends in its TLS handshake (hello, certificate, verify, finished), rounded up. */
const CLIENT_HANDSHAKE_BYTES = 4096;

/** 0-2 faults at random offsets within the bytes the op moves, mostly in its main direction. */
function drawFaults(random: SeededRandom, main: Direction, bytes: number): Fault[] {
  const roll = random.next();
  const count = roll < 0.3 ? 0 : roll < 0.8 ? 1 : 2;
  return Array.from({ length: count }, () => {
    const k = random.next();
    const drawn: Fault["kind"] = k < 0.55 ? "reset" : k < 0.85 ? "corrupt" : "stall";
    const mainSide = random.next() < 0.75;
    // The other direction carries little (handshake, headers, the reply): a fault there often
    // hits the reply after the aggregator has the upload, so the resend must be deduplicated.
    const direction = mainSide ? main : main === "to-server" ? "to-client" : "to-server";
    const atByte = mainSide ? random.int(0, bytes + 2048) : random.int(0, 600);
    // Corrupting the client's first bytes can hit its TLS handshake, and the server then answers
    // a handshake_failure alert: on the wire that is a refused client certificate, which the
    // client rightly does not retry. Such a fault is a reset here.
    const hitsHandshake = direction === "to-server" && atByte < CLIENT_HANDSHAKE_BYTES;
    const kind = drawn === "corrupt" && hitsHandshake ? "reset" : drawn;
    return { kind, direction, atByte };
  });
}

describe(`seeded fault injection (FAULT_SEED=${SEED})`, () => {
  let federation: Federation;
  let proxies: FaultProxy[] = [];
  const modelSha = new Map<string, { sha256: string; bytes: number }>();
  const outcomes: OpOutcome[] = [];
  let resourcesBefore: Map<string, number>;

  before(async () => {
    console.log(`fault injection seed: ${SEED} (repeat with FAULT_SEED=${SEED})`);
    resourcesBefore = activeResources();
    const random = seededRandom(SEED);
    const initialModel: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (let i = 0; i < MODEL_TENSORS; i++) {
      const bytes = i === 0 ? MAX_PAYLOAD : logUniformSize(random, 16, MAX_PAYLOAD);
      const { tensor, sha256: digest } = modelTensor(random, bytes);
      initialModel[`model${i}`] = { shape: [...tensor.shape], data: tensor.data };
      modelSha.set(`model${i}`, { sha256: digest, bytes });
    }
    const collaborators = Array.from(
      { length: LANES * COLLABORATORS_PER_LANE },
      (_, i) => `collaborator${i}`,
    );
    federation = await startFederation({ collaborators, tasks: TASKS, initialModel });
    proxies = await Promise.all(
      Array.from({ length: LANES }, () => startFaultProxy(federation.port)),
    );
  });

  after(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await federation?.close();
  });

  it(`runs ${LANES * OPS_PER_LANE} uploads and downloads (up to 16 MiB) through faults; each call ends in time`, {
    timeout: 170_000,
  }, async () => {
    const started = performance.now();
    await Promise.all(
      proxies.map((proxy, lane) => runLane(lane, proxy, seededRandom(SEED + 1 + lane))),
    );
    const failed = outcomes.filter((o) => o.error !== undefined);
    const late = outcomes.filter((o) => o.ms > o.boundMs);
    const fired = proxies.flatMap((p) => p.fired);
    const byKind = (kind: string) => fired.filter((f) => f.kind === kind).length;
    console.log(
      `ops ${outcomes.length} (${outcomes.filter((o) => o.op.t === "upload").length} uploads), ` +
        `faults fired ${fired.length} (reset ${byKind("reset")}, stall ${byKind("stall")}, corrupt ${byKind("corrupt")}), ` +
        `connections ${proxies.reduce((n, p) => n + p.connections, 0)}, ` +
        `duplicates ignored by the aggregator ${federation.ignoredDuplicates}, ` +
        `slowest op ${Math.max(...outcomes.map((o) => o.ms)).toFixed(0)} ms, total ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    assert.deepEqual(
      failed.map((o) => `${describeOp(o.op)}: ${String(o.error)}`),
      [],
      "every call succeeds (at most 2 faults per call, within the retry budget)",
    );
    assert.deepEqual(
      late.map((o) => `${describeOp(o.op)} took ${o.ms.toFixed(0)} ms > ${o.boundMs} ms`),
      [],
    );
    assert.ok(fired.length >= outcomes.length / 2, `faults fired: ${fired.length}`);
  });

  it("on the wire, before the aggregator's duplicate filter: each upload arrived once, plus at most one copy per resend", () => {
    const received = new Map<string, number>();
    for (const u of federation.aggregator.state.uploadsReceived) {
      const key = `${u.collaborator}/${u.taskName}/${u.round}`;
      received.set(key, (received.get(key) ?? 0) + 1);
    }
    const uploadOutcomes = outcomes.filter((o) => o.op.t === "upload");
    const wrong: string[] = [];
    const extras: string[] = [];
    let extraCopies = 0;
    for (const { op, fired, retries } of uploadOutcomes) {
      if (op.t !== "upload") continue;
      const copies = received.get(`${op.collaborator}/${op.task}/0`) ?? 0;
      // An extra copy needs a resend: one whose first attempt reached the aggregator whole but
      // lost its acknowledgement (a fault on the reply, or a deadline that ran out meanwhile).
      if (copies < 1 || copies > 1 + retries) {
        wrong.push(`${describeOp(op)}: ${copies} copies, ${retries} resends`);
      }
      if (copies > 1) {
        extraCopies += copies - 1;
        extras.push(
          `${describeOp(op)}: ${copies - 1} extra after [${fired.map((f) => `${f.kind}@${f.direction}:${f.atByte}`).join(", ") || "a deadline"}]`,
        );
      }
    }
    console.log(`uploads received more than once (the acknowledgement was cut): ${extras.length}`);
    for (const line of extras) console.log(`  ${line}`);
    assert.deepEqual(wrong, []);
    assert.equal(
      federation.aggregator.state.uploadsReceived.length,
      uploadOutcomes.length + extraCopies,
      "nothing else arrived",
    );
  });

  it("every upload was accepted exactly once, byte-identical; nothing else was", () => {
    const uploads = outcomes.flatMap((o) => (o.op.t === "upload" ? [o.op] : []));
    const arrived = new Map<string, number>();
    for (const a of federation.arrivals) {
      const key = `${a.collaborator}/${a.taskName}/${a.round}`;
      arrived.set(key, (arrived.get(key) ?? 0) + 1);
    }
    assert.equal(federation.arrivals.length, uploads.length);
    for (const op of uploads) {
      assert.equal(arrived.get(`${op.collaborator}/${op.task}/0`), 1, describeOp(op));
    }
    for (const a of federation.arrivals) {
      assert.equal(
        a.sha256[`w-${a.taskName}`],
        expectedUploadSha.get(`${a.collaborator}/${a.taskName}`),
      );
    }
  });

  it("leaves no sockets or servers behind at once, and no timers after the last deadline", async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await federation.close();
    proxies = [];
    const longestDeadline = Math.max(...outcomes.map((o) => attemptTimeoutMs(o.op.t, o.op.bytes)));
    const left = await leftoversAfterClose(resourcesBefore, 3000, longestDeadline + 1000);
    console.log(`leftover timers gone after ${left.timersGoneMs} ms`);
    assert.deepEqual(left.sockets, {});
    assert.deepEqual(left.timers, {});
  });

  const expectedUploadSha = new Map<string, string>();

  async function runLane(lane: number, proxy: FaultProxy, random: SeededRandom): Promise<void> {
    const names = Array.from(
      { length: COLLABORATORS_PER_LANE },
      (_, i) => `collaborator${lane * COLLABORATORS_PER_LANE + i}`,
    );
    // One client per collaborator and deadline class, keeping its connection between calls.
    const clients = new Map<string, AggregatorGRPCClient>();
    let retries = 0;
    const clientFor = (name: string, timeoutMs: number) => {
      const key = `${name}/${timeoutMs}`;
      let client = clients.get(key);
      if (client === undefined) {
        client = federation.client(name, {
          aggPort: proxy.port,
          retry: { intervalMs: 20, attemptTimeoutMs: timeoutMs },
          onRetry: () => {
            retries++;
          },
        });
        clients.set(key, client);
      }
      return client;
    };
    let uploads = 0;
    for (let i = 0; i < OPS_PER_LANE; i++) {
      const forceLarge = i === 0;
      let op: Op;
      if (random.next() < 0.65 || forceLarge) {
        const bytes = forceLarge ? MAX_PAYLOAD : logUniformSize(random, 64, MAX_PAYLOAD);
        const collaborator = names[uploads % names.length] as string;
        const task = TASKS[Math.floor(uploads / names.length)] as string;
        uploads++;
        op = {
          t: "upload",
          collaborator,
          task,
          bytes,
          faults: drawFaults(random, "to-server", bytes),
        };
      } else {
        const tensor = `model${random.int(0, MODEL_TENSORS - 1)}`;
        const bytes = modelSha.get(tensor)?.bytes ?? 0;
        op = { t: "download", tensor, bytes, faults: drawFaults(random, "to-client", bytes) };
      }
      const timeoutMs = attemptTimeoutMs(op.t, op.bytes);
      // Each fault can cost one deadline (stall, stuck handshake) plus a retry interval.
      const boundMs = (op.faults.length + 1) * (timeoutMs + 500) + 3000;
      const payload = op.t === "upload" ? random.bytes(op.bytes) : undefined;
      proxy.disarm();
      proxy.arm(...op.faults);
      const firedBefore = proxy.fired.length;
      const retriesBefore = retries;
      const during = () => ({
        fired: proxy.fired.slice(firedBefore),
        retries: retries - retriesBefore,
      });
      const t0 = performance.now();
      if (process.env.FAULT_TRACE) console.log(`lane ${lane} op ${i} start ${describeOp(op)}`);
      try {
        if (op.t === "upload" && payload) {
          expectedUploadSha.set(`${op.collaborator}/${op.task}`, sha256(payload));
          await clientFor(op.collaborator, timeoutMs).sendLocalTaskResults(0, op.task, 10, [
            // One tensor name per task: OpenFL keys a round's results by name and tags.
            trainedTensor(`w-${op.task}`, 0, payload),
          ]);
        } else if (op.t === "download") {
          const name = names[i % names.length] as string;
          const got = await clientFor(name, timeoutMs).getAggregatedTensor(op.tensor, 0, {
            tags: ["model"],
            requireLossless: true,
          });
          assert.equal(sha256(got.dataBytes), modelSha.get(op.tensor)?.sha256, describeOp(op));
        }
        outcomes.push({ op, ms: performance.now() - t0, boundMs, ...during() });
      } catch (error) {
        outcomes.push({ op, ms: performance.now() - t0, boundMs, ...during(), error });
      }
    }
    proxy.disarm();
    await Promise.all([...clients.values()].map((c) => c.disconnect()));
  }
});

function describeOp(op: Op): string {
  const faults = op.faults.map((f) => `${f.kind}@${f.direction}:${f.atByte}`).join(",") || "none";
  return op.t === "upload"
    ? `upload ${op.collaborator}/${op.task} ${op.bytes} B [${faults}]`
    : `download ${op.tensor} ${op.bytes} B [${faults}]`;
}
