import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import { AggregatorClient, parsePendingTaskResults } from "./aggregator-client.js";
import type { AggregatorConnector } from "./aggregator-connection.js";
import { concatParts } from "./byte-parts.js";
import type { AggregatorClientOptions } from "./client-options.js";
import { joinDataStreamChunks } from "./datastream-chunks.js";
import { AggregatorCallError, HeaderMismatchError, InvalidOptionError } from "./errors.js";
import type { PlatformFailure } from "./failure-classifier.js";
import {
  Aggregator,
  type MessageHeader,
  MessageHeaderSchema,
  TaskResultsSchema,
} from "./gen/openfl/protocols/aggregator_pb.js";
import type { DataStream } from "./gen/openfl/protocols/base_pb.js";
import { InMemoryResendBuffer, type ResendBuffer } from "./resend-buffer.js";
import { encodeNamedTensor } from "./tensor-codec.js";

const identity = {
  aggregatorUuid: "aggregator_fed",
  federationUuid: "fed",
  collaboratorName: "one",
};
/** The header OpenFL's server answers this collaborator with, written out (not computed). */
const okHeader = {
  sender: "aggregator_fed",
  receiver: "one",
  federationUuid: "fed",
  singleColCertCommonName: "",
};

/** An in-memory aggregator; counts channels opened and closed. */
function fakeConnector(impl: Partial<ServiceImpl<typeof Aggregator>>) {
  const counts = { opened: 0, closed: 0, roots: [] as string[] };
  const connector: AggregatorConnector = {
    target: "in-memory",
    open() {
      counts.opened++;
      const transport = createRouterTransport(({ service }) => service(Aggregator, impl));
      return {
        transport,
        close: async () => {
          counts.closed++;
        },
      };
    },
    useRootCertificate(root) {
      counts.roots.push(root);
    },
  };
  return { connector, counts };
}

function client(
  impl: Partial<ServiceImpl<typeof Aggregator>>,
  options: Partial<AggregatorClientOptions> = {},
) {
  const { connector, counts } = fakeConnector(impl);
  const c = new AggregatorClient({
    ...identity,
    connector,
    ...options,
    // Bounded, so that a regression that keeps retrying fails its test by name (max-attempts)
    // instead of running into the file's timeout.
    retry: { intervalMs: 1, maxAttempts: 10, ...options.retry },
  });
  return { client: c, counts };
}

describe("AggregatorClient", () => {
  it("stamps the request header and returns typed tasks", async () => {
    let seen: MessageHeader | undefined;
    const { client: c } = client({
      getTasks(req) {
        seen = req.header;
        return {
          header: okHeader,
          roundNumber: 4,
          tasks: [{ name: "train" }],
          sleepTime: 10,
          quit: false,
        };
      },
    });
    const tasks = await c.getTasks();
    assert.deepEqual(
      [seen?.sender, seen?.receiver, seen?.federationUuid, seen?.singleColCertCommonName],
      ["one", "aggregator_fed", "fed", ""],
    );
    assert.equal(tasks.roundNumber, 4);
    assert.equal(tasks.tasks[0]?.name, "train");
    assert.equal(tasks.sleepTime, 10);
  });

  it("fails at once, without retry, on a response header mismatch", async () => {
    let calls = 0;
    const { client: c } = client({
      ping() {
        calls++;
        return { header: { ...okHeader, federationUuid: "other" } };
      },
    });
    await assert.rejects(
      c.ping(),
      (e: unknown) =>
        e instanceof HeaderMismatchError &&
        e.field === "federation_uuid" &&
        e.expected === "fed" &&
        e.actual === "other",
    );
    assert.equal(calls, 1);
  });

  it("a connector's headerless response is not validated; every other response still is", async () => {
    const { connector } = fakeConnector({
      sendLocalTaskResults: async (requests) => {
        for await (const _ of requests);
        return {}; // no header, as OpenFL's REST server acknowledges an upload
      },
      ping: () => ({}),
    });
    const c = new AggregatorClient({
      ...identity,
      connector: { ...connector, headerlessResponses: new Set(["SendLocalTaskResults"]) },
      retry: { intervalMs: 1, maxAttempts: 2 },
    });
    await c.sendLocalTaskResults(0, "train", 1, []);
    assert.equal((await c.resendBuffer.list()).length, 0);
    await assert.rejects(
      c.ping(),
      (e: unknown) => e instanceof HeaderMismatchError && e.field === "sender",
    );
  });

  it("without headerlessResponses an upload's missing header is a mismatch (gRPC)", async () => {
    const { client: c } = client({
      sendLocalTaskResults: async (requests) => {
        for await (const _ of requests);
        return {};
      },
    });
    await assert.rejects(
      c.sendLocalTaskResults(0, "train", 1, []),
      (e: unknown) => e instanceof HeaderMismatchError && e.rpc === "SendLocalTaskResults",
    );
  });

  it("retries UNAVAILABLE on a new channel and then succeeds", async () => {
    let calls = 0;
    const retries: number[] = [];
    const { client: c, counts } = client(
      {
        ping() {
          if (++calls < 3) throw new ConnectError("down", Code.Unavailable);
          return { header: okHeader };
        },
      },
      { onRetry: (e) => retries.push(e.attempt) },
    );
    await c.ping();
    assert.equal(calls, 3);
    assert.deepEqual(retries, [1, 2]);
    assert.equal(counts.opened, 3, "a new channel after each failure");
  });

  for (const code of [
    Code.Unauthenticated,
    Code.PermissionDenied,
    Code.InvalidArgument,
    Code.Unimplemented,
  ]) {
    it(`surfaces ${Code[code]} at once as a typed error`, async () => {
      let calls = 0;
      const { client: c } = client({
        getTasks() {
          calls++;
          throw new ConnectError("no", code);
        },
      });
      await assert.rejects(
        c.getTasks(),
        (e: unknown) =>
          e instanceof AggregatorCallError &&
          e.code === code &&
          e.reason === "cannot-heal" &&
          e.attempts === 1,
      );
      assert.equal(calls, 1);
    });
  }

  it("stops retrying an ambiguous UNKNOWN after its budget and shows the server's message", async () => {
    let calls = 0;
    const { client: c } = client(
      {
        ping() {
          calls++;
          throw new ConnectError("Exception calling application: AssertionError", Code.Unknown);
        },
      },
      { retry: { ambiguousFailureAttempts: 2 } },
    );
    await assert.rejects(
      c.ping(),
      (e: unknown) =>
        e instanceof AggregatorCallError &&
        e.reason === "ambiguous-budget" &&
        /Exception calling application/.test(e.message),
    );
    assert.equal(calls, 2);
  });

  it("with retryOnAnyError, retries even UNAUTHENTICATED (OpenFL parity) up to maxAttempts", async () => {
    let calls = 0;
    const { client: c } = client(
      {
        ping() {
          calls++;
          throw new ConnectError("Invalid collaborator", Code.Unauthenticated);
        },
      },
      { retry: { retryOnAnyError: true, maxAttempts: 4 } },
    );
    await assert.rejects(
      c.ping(),
      (e: unknown) => e instanceof AggregatorCallError && e.reason === "max-attempts",
    );
    assert.equal(calls, 4);
  });

  it("does not retry at all when resendDataOnReconnection is false", async () => {
    let calls = 0;
    const { client: c } = client(
      {
        ping() {
          calls++;
          throw new ConnectError("down", Code.Unavailable);
        },
      },
      { resendDataOnReconnection: false },
    );
    await assert.rejects(
      c.ping(),
      (e: unknown) => e instanceof AggregatorCallError && e.reason === "retry-disabled",
    );
    assert.equal(calls, 1);
  });

  it("gives up after maxElapsedMs", async () => {
    const { client: c } = client(
      {
        ping() {
          throw new ConnectError("down", Code.Unavailable);
        },
      },
      { retry: { intervalMs: 20, maxElapsedMs: 50 } },
    );
    await assert.rejects(
      c.ping(),
      (e: unknown) => e instanceof AggregatorCallError && e.reason === "max-elapsed",
    );
  });

  it("an AbortSignal stops a call that is waiting to retry", async () => {
    let calls = 0;
    const { client: c } = client(
      {
        ping() {
          calls++;
          throw new ConnectError("down", Code.Unavailable);
        },
      },
      { retry: { intervalMs: 60_000 } },
    );
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error("user stopped")), 50);
    await assert.rejects(c.ping({ signal: controller.signal }), /user stopped/);
    assert.equal(calls, 1);
    assert.ok(Date.now() - started < 5000, "did not wait for the 60 s interval");
  });

  it("calls the refetch callback and hands the new root certificate to the adapter", async () => {
    let calls = 0;
    const { client: c, counts } = client(
      {
        ping() {
          if (++calls === 1) throw new ConnectError("down", Code.Unavailable);
          return { header: okHeader };
        },
      },
      { refetchServerCertificate: async () => "/pki/new-ca.pem" },
    );
    await c.ping();
    assert.deepEqual(counts.roots, ["/pki/new-ca.pem"]);
  });

  it("opens and closes exactly one channel per call with atomic connections", async () => {
    const { client: c, counts } = client(
      { ping: () => ({ header: okHeader }) },
      { enableAtomicConnections: true },
    );
    await c.ping();
    await c.ping();
    await c.ping();
    assert.deepEqual([counts.opened, counts.closed], [3, 3]);
  });

  it("keeps one channel across calls by default", async () => {
    const { client: c, counts } = client({ ping: () => ({ header: okHeader }) });
    await c.ping();
    await c.ping();
    assert.equal(counts.opened, 1);
    await c.disconnect();
    assert.equal(counts.closed, 1);
  });

  it("uploads results in 2 MiB chunks and resends the same bytes after a reset", async () => {
    const received: Uint8Array[] = [];
    const chunkSizes: number[][] = [];
    let attempts = 0;
    const { client: c } = client({
      async sendLocalTaskResults(stream) {
        attempts++;
        const chunks: DataStream[] = [];
        for await (const chunk of stream) {
          chunks.push(chunk);
          if (attempts === 1 && chunks.length === 2) {
            const reset = new ConnectError("stream reset", Code.Aborted);
            reset.cause = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
            throw reset;
          }
        }
        chunkSizes.push(chunks.map((ch) => ch.size));
        received.push(joinDataStreamChunks(chunks));
        return { header: okHeader };
      },
    });
    const data = Float32Array.from({ length: (5 * 1024 * 1024) / 4 }, (_, i) => i % 1000);
    const tensor = encodeNamedTensor(
      { shape: [data.length], data },
      { name: "w", roundNumber: 2, tags: ["trained"] },
    );
    await c.sendLocalTaskResults(2, "train", 100, [tensor]);
    assert.equal(attempts, 2);
    assert.equal(received.length, 1);
    const sizes = chunkSizes[0] ?? [];
    assert.ok(
      sizes.every((n) => n <= 2 * 1024 * 1024),
      "no chunk over 2 MiB",
    );
    assert.equal(
      sizes.filter((n) => n === 2 * 1024 * 1024).length,
      2,
      "the 5 MiB tensor travels in 2 MiB views",
    );
    const results = fromBinary(TaskResultsSchema, received[0] as Uint8Array);
    assert.equal(results.taskName, "train");
    assert.equal(results.dataSize, 100);
    assert.equal(results.header?.sender, "one");
    assert.deepEqual(results.tensors[0]?.dataBytes, tensor.dataBytes);
    assert.equal((await c.resendBuffer.list()).length, 0, "acknowledged uploads leave the buffer");
  });

  it("keeps an upload whose retries ran out in the buffer, and resendPending delivers it", async () => {
    let up = false;
    let delivered = 0;
    const { client: c } = client(
      {
        async sendLocalTaskResults(stream) {
          for await (const _ of stream) {
          }
          if (!up) throw new ConnectError("down", Code.Unavailable);
          delivered++;
          return { header: okHeader };
        },
      },
      { retry: { maxAttempts: 2 } },
    );
    await assert.rejects(
      c.sendLocalTaskResults(1, "train", 5, []),
      (e: unknown) => e instanceof AggregatorCallError,
    );
    assert.equal((await c.resendBuffer.list()).length, 1);
    up = true;
    assert.equal(await c.resendPending(), 1);
    assert.equal(delivered, 1);
    assert.equal((await c.resendBuffer.list()).length, 0);
  });

  it("drops an upload that cannot heal from the buffer but hands its bytes back on the error", async () => {
    const { client: c } = client({
      async sendLocalTaskResults() {
        throw new ConnectError("Invalid collaborator", Code.Unauthenticated);
      },
    });
    await assert.rejects(
      c.sendLocalTaskResults(1, "train", 5, []),
      (e: unknown) =>
        e instanceof AggregatorCallError &&
        e.unsentRequest !== undefined &&
        fromBinary(TaskResultsSchema, concatParts(e.unsentRequest)).taskName === "train",
    );
    assert.equal((await c.resendBuffer.list()).length, 0);
  });

  it("hands an upload that cannot heal to the buffer's discard, not acknowledge", async () => {
    const calls: string[] = [];
    const buffer = new InMemoryResendBuffer();
    const recording: ResendBuffer = {
      add: (r) => buffer.add(r),
      list: () => buffer.list(),
      acknowledge: (id) => {
        calls.push("acknowledge");
        buffer.acknowledge(id);
      },
      discard: (id, reason) => {
        calls.push(`discard: ${reason}`);
        buffer.acknowledge(id);
      },
    };
    const { client: c } = client(
      {
        async sendLocalTaskResults() {
          return { header: { ...okHeader, receiver: "someone-else" } };
        },
      },
      { resendBuffer: recording },
    );
    await assert.rejects(
      c.sendLocalTaskResults(1, "train", 5, []),
      (e: unknown) => e instanceof HeaderMismatchError && e.unsentRequest !== undefined,
    );
    assert.equal(calls.length, 1);
    assert.match(calls[0] ?? "", /^discard: .*receiver/);
  });

  it("relays interop messages and reads an absent tensor as empty, like OpenFL", async () => {
    const { client: c } = client({
      interopRelay: (req) => ({
        header: okHeader,
        message: req.message,
        metadata: { echoed: "yes" },
      }),
      getAggregatedTensor: () => ({ header: okHeader, roundNumber: 1 }),
    });
    const reply = await c.sendMessageToServer(Uint8Array.of(1, 2, 3), { metadata: { a: "b" } });
    assert.deepEqual([...reply.message], [1, 2, 3]);
    assert.equal(reply.metadata.echoed, "yes");
    const tensor = await c.getAggregatedTensor("w", 1, { tags: ["model"], requireLossless: true });
    assert.equal(tensor.name, "");
  });

  it("rejects wrong option types at construction, naming the option", () => {
    const { connector } = fakeConnector({});
    const cases: [Record<string, unknown>, string][] = [
      [{ collaboratorName: 5 }, "collaboratorName"],
      [{ federationUuid: "" }, "federationUuid"],
      [{ enableAtomicConnections: "yes" }, "enableAtomicConnections"],
      [{ refetchServerCertificate: "/ca.pem" }, "refetchServerCertificate"],
      [{ uploadChunkBytes: -1 }, "uploadChunkBytes"],
      [{ connector: {} }, "connector"],
    ];
    for (const [override, option] of cases) {
      assert.throws(
        () => new AggregatorClient({ ...identity, connector, ...override } as never),
        (e: unknown) => e instanceof InvalidOptionError && e.option === option,
        option,
      );
    }
  });

  it("validateResponse checks a response like OpenFL's validate_response", () => {
    const { client: c } = client({});
    c.validateResponse({ header: create(MessageHeaderSchema, okHeader) });
    assert.throws(
      () =>
        c.validateResponse({
          header: create(MessageHeaderSchema, { ...okHeader, receiver: "two" }),
        }),
      HeaderMismatchError,
    );
  });
});

describe("AggregatorClient: a stream reset with no cause is diagnosed once per call", () => {
  /** A connector whose aggregator resets `resets` calls, then answers; with a diagnosis hook. */
  function resettingClient(resets: number, diagnosis: PlatformFailure | undefined) {
    let calls = 0;
    const { connector } = fakeConnector({
      getTasks() {
        calls++;
        if (calls <= resets)
          throw new ConnectError(
            "http/2 stream closed with error code CANCEL (0x8)",
            Code.Canceled,
          );
        return { header: okHeader, roundNumber: 0, tasks: [], sleepTime: 1, quit: false };
      },
    });
    const probes = { count: 0 };
    const c = new AggregatorClient({
      ...identity,
      connector: {
        ...connector,
        async diagnoseReset() {
          probes.count++;
          return diagnosis;
        },
      },
      retry: { intervalMs: 1, maxAttempts: 10 },
    });
    return { client: c, probes, calls: () => calls };
  }

  it("fails at once, without another attempt, when the adapter finds the client certificate refused", async () => {
    const {
      client: c,
      probes,
      calls,
    } = resettingClient(Number.POSITIVE_INFINITY, {
      t: "client-certificate-refused",
      failure: "the aggregator drops every connection with certificate one.crt",
    });
    await assert.rejects(c.getTasks(), (e: unknown) => {
      assert.ok(e instanceof AggregatorCallError);
      assert.equal(e.reason, "cannot-heal");
      assert.equal(e.attempts, 1);
      assert.match(e.message, /drops every connection with certificate one\.crt/);
      // The adapter's reading travels with the error: callers need not walk causes again.
      assert.equal(e.platform, "client-certificate-refused");
      return true;
    });
    assert.equal(probes.count, 1);
    assert.equal(calls(), 1);
  });

  it("fails at once when the adapter finds clear text spoken to a TLS server", async () => {
    const { client: c } = resettingClient(Number.POSITIVE_INFINITY, {
      t: "protocol-mismatch",
      failure: "useTls is false, but the aggregator speaks TLS",
    });
    await assert.rejects(
      c.getTasks(),
      (e: unknown) =>
        e instanceof AggregatorCallError &&
        e.reason === "cannot-heal" &&
        /speaks TLS/.test(e.message),
    );
  });

  it("leaves platform undefined when the adapter saw nothing", async () => {
    const bounded = new AggregatorClient({
      ...identity,
      connector: fakeConnector({
        getTasks() {
          throw new ConnectError("boom", Code.Internal);
        },
      }).connector,
      retry: { intervalMs: 1, maxAttempts: 1 },
    });
    await assert.rejects(bounded.getTasks(), (e: unknown) => {
      assert.ok(e instanceof AggregatorCallError);
      assert.equal(e.platform, undefined);
      return true;
    });
  });

  it("retries a passing reset the adapter cannot explain, probing only once per call", async () => {
    const { client: c, probes, calls } = resettingClient(3, undefined);
    const tasks = await c.getTasks();
    assert.equal(tasks.roundNumber, 0);
    assert.equal(calls(), 4);
    assert.equal(probes.count, 1);
  });
});

describe("AggregatorClient: what reaches the wire, and what each failure names", () => {
  const singleCertHeader = { ...okHeader, singleColCertCommonName: "shared-cn" };
  const headerOf = (h: MessageHeader | undefined) => [
    h?.sender,
    h?.receiver,
    h?.federationUuid,
    h?.singleColCertCommonName,
  ];
  const sent = ["one", "aggregator_fed", "fed", "shared-cn"];

  it("every call carries the whole request header, a non-empty single-certificate CN included", async () => {
    const headers: Record<string, unknown[]> = {};
    const { client: c } = client(
      {
        ping(req) {
          headers.ping = headerOf(req.header);
          return { header: singleCertHeader };
        },
        getTasks(req) {
          headers.getTasks = headerOf(req.header);
          return { header: singleCertHeader };
        },
        getAggregatedTensor(req) {
          headers.getAggregatedTensor = headerOf(req.header);
          return { header: singleCertHeader };
        },
        async sendLocalTaskResults(stream) {
          const chunks: DataStream[] = [];
          for await (const chunk of stream) chunks.push(chunk);
          const results = fromBinary(TaskResultsSchema, joinDataStreamChunks(chunks));
          headers.sendLocalTaskResults = headerOf(results.header);
          return { header: singleCertHeader };
        },
        interopRelay(req) {
          headers.interopRelay = headerOf(req.header);
          return { header: singleCertHeader };
        },
      },
      { singleColCertCommonName: "shared-cn" },
    );
    await c.ping();
    await c.getTasks();
    await c.getAggregatedTensor("w", 1);
    await c.sendLocalTaskResults(1, "train", 10, []);
    await c.sendMessageToServer(Uint8Array.of(1));
    assert.deepEqual(headers, {
      ping: sent,
      getTasks: sent,
      getAggregatedTensor: sent,
      sendLocalTaskResults: sent,
      interopRelay: sent,
    });
  });

  it("asks for a tensor as OpenFL does: not reported, no tags, lossy allowed, unless told", async () => {
    const asked: unknown[][] = [];
    const { client: c } = client({
      getAggregatedTensor(req) {
        asked.push([
          req.tensorName,
          req.roundNumber,
          req.report,
          [...req.tags],
          req.requireLossless,
        ]);
        return { header: okHeader };
      },
    });
    await c.getAggregatedTensor("conv2d/kernel", 3);
    await c.getAggregatedTensor("dense/bias", 4, {
      report: true,
      tags: ["model"],
      requireLossless: true,
    });
    assert.deepEqual(asked, [
      ["conv2d/kernel", 3, false, [], false],
      ["dense/bias", 4, true, ["model"], true],
    ]);
  });

  it("sends an interop message with its size and metadata, and reads an absent reply as empty", async () => {
    let seen: { size?: bigint | number; bytes?: number[]; metadata?: Record<string, string> } = {};
    const { client: c } = client({
      interopRelay(req) {
        seen = {
          size: req.message?.size,
          bytes: [...(req.message?.npbytes ?? [])],
          metadata: { ...req.metadata },
        };
        return { header: okHeader };
      },
    });
    const reply = await c.sendMessageToServer(Uint8Array.of(7, 8), { metadata: { task: "fa" } });
    assert.deepEqual(seen, { size: 2, bytes: [7, 8], metadata: { task: "fa" } });
    assert.deepEqual([...reply.message], []);
    assert.deepEqual(reply.metadata, {});
  });

  it("names the call in every error and retry event", async () => {
    const refuse = () => {
      throw new ConnectError("down", Code.Unavailable);
    };
    const events: string[] = [];
    const { client: c } = client(
      {
        ping: refuse,
        getTasks: refuse,
        getAggregatedTensor: refuse,
        sendLocalTaskResults: refuse,
        interopRelay: refuse,
      },
      { retry: { maxAttempts: 2 }, onRetry: (e) => events.push(e.rpc) },
    );
    const rpcOf = async (call: Promise<unknown>) => {
      try {
        await call;
      } catch (e) {
        assert.ok(e instanceof AggregatorCallError);
        assert.ok(e.message.startsWith(`${e.rpc} failed after 2 attempt(s)`), e.message);
        return e.rpc;
      }
      return assert.fail("the call succeeded");
    };
    assert.deepEqual(
      [
        await rpcOf(c.ping()),
        await rpcOf(c.getTasks()),
        await rpcOf(c.getAggregatedTensor("w", 1)),
        await rpcOf(c.sendLocalTaskResults(1, "train", 1, [])),
        await rpcOf(c.sendMessageToServer(Uint8Array.of(1))),
      ],
      ["Ping", "GetTasks", "GetAggregatedTensor", "SendLocalTaskResults", "InteropRelay"],
    );
    assert.deepEqual(events, [
      "Ping",
      "GetTasks",
      "GetAggregatedTensor",
      "SendLocalTaskResults",
      "InteropRelay",
    ]);
  });

  it("keeps an unacknowledged upload under its call's name, described for a person, parseable", async () => {
    const buffer = new InMemoryResendBuffer();
    const { client: c } = client(
      {
        sendLocalTaskResults() {
          throw new ConnectError("down", Code.Unavailable);
        },
      },
      { resendBuffer: buffer, retry: { maxAttempts: 1 } },
    );
    const tensor = encodeNamedTensor(
      { shape: [2], data: [1, 2] },
      { name: "w", roundNumber: 2, tags: ["trained"] },
    );
    await assert.rejects(c.sendLocalTaskResults(2, "train", 60, [tensor]));
    const [pending] = await buffer.list();
    assert.equal(pending?.rpc, "SendLocalTaskResults");
    assert.match(pending?.description ?? "", /^round 2 task train \(1 tensors, \d+ bytes\)$/);
    const bytes = concatParts(pending?.parts ?? []).byteLength;
    assert.equal(pending?.description, `round 2 task train (1 tensors, ${bytes} bytes)`);
    const results = parsePendingTaskResults(pending as never);
    assert.deepEqual(
      [results.roundNumber, results.taskName, results.dataSize, results.tensors[0]?.name],
      [2, "train", 60, "w"],
    );
  });

  it("validateResponse names 'response' when no call is given", () => {
    const { client: c } = client({});
    assert.throws(
      () =>
        c.validateResponse({ header: create(MessageHeaderSchema, { ...okHeader, sender: "x" }) }),
      (e: unknown) => e instanceof HeaderMismatchError && e.message.startsWith("response: "),
    );
  });

  it("reconnect closes the channel and opens a new one; with atomic connections it opens none", async () => {
    const persistent = client({ ping: () => ({ header: okHeader }) });
    await persistent.client.ping();
    await persistent.client.reconnect();
    assert.deepEqual([persistent.counts.opened, persistent.counts.closed], [2, 1]);
    await persistent.client.ping();
    assert.equal(persistent.counts.opened, 2, "the reopened channel is used");
    const atomic = client(
      { ping: () => ({ header: okHeader }) },
      { enableAtomicConnections: true },
    );
    await atomic.client.reconnect();
    assert.deepEqual([atomic.counts.opened, atomic.counts.closed], [0, 0]);
  });

  it("bounds each attempt by retry.attemptTimeoutMs and retries the stalled call", async () => {
    let calls = 0;
    const { client: c } = client(
      {
        async ping(_req, context) {
          calls++;
          await new Promise((_, reject) => context.signal.addEventListener("abort", reject));
          return { header: okHeader };
        },
      },
      { retry: { attemptTimeoutMs: 20, maxAttempts: 2 } },
    );
    await assert.rejects(
      c.ping(),
      (e: unknown) =>
        e instanceof AggregatorCallError &&
        e.code === Code.DeadlineExceeded &&
        e.reason === "max-attempts",
    );
    assert.equal(calls, 2);
  });

  it("retries a server certificate that does not verify only when it can be refetched", async () => {
    const untrusted = () => {
      throw new ConnectError("unable to verify the first certificate", Code.Unavailable);
    };
    const withClassifier = (refetch: boolean) => {
      const { connector } = fakeConnector({ ping: untrusted });
      return new AggregatorClient({
        ...identity,
        connector: {
          ...connector,
          classifyPlatformFailure: () => ({
            t: "server-certificate",
            failure: "server certificate not trusted",
          }),
        },
        retry: { intervalMs: 1, maxAttempts: 10, ambiguousFailureAttempts: 2 },
        ...(refetch ? { refetchServerCertificate: () => "ca.pem" } : {}),
      });
    };
    await assert.rejects(
      withClassifier(false).ping(),
      (e: unknown) =>
        e instanceof AggregatorCallError && e.reason === "cannot-heal" && e.attempts === 1,
    );
    await assert.rejects(
      withClassifier(true).ping(),
      (e: unknown) =>
        e instanceof AggregatorCallError && e.reason === "ambiguous-budget" && e.attempts === 2,
    );
  });

  it("a failed call does not close the channel another call has opened since", async () => {
    let calls = 0;
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { client: c, counts } = client({
      async ping() {
        const call = ++calls;
        if (call === 1) throw new ConnectError("down", Code.Unavailable);
        if (call === 2) {
          await released; // fails only once the other call has reconnected
          throw new ConnectError("down", Code.Unavailable);
        }
        if (call === 3) release();
        return { header: okHeader };
      },
    });
    await Promise.all([c.ping(), c.ping()]);
    assert.equal(calls, 4);
    assert.deepEqual(
      [counts.opened, counts.closed],
      [2, 1],
      "the second failure closed the channel the first call had reopened",
    );
  });
});
