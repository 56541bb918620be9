// The REST connector against a local HTTP server standing in for OpenFL's (clear text: the TLS
// path runs against OpenFL's real server in packages/interop): what each call puts on the wire,
// what it makes of the answers, and the option checks.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
  AggregatorCallError,
  encodeNamedTensor,
  HeaderMismatchError,
  InvalidOptionError,
  type RetryEvent,
} from "@openfl-connect/core";
import { DataStreamSchema, TaskResultsSchema } from "@openfl-connect/core/protocol";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { AggregatorGRPCClient, createConnector } from "./aggregator-grpc-client.js";
import { NodeConnector } from "./node-connector.js";
import { NodeRestConnector } from "./rest-connector.js";

const identity = {
  aggregatorUuid: "aggregator_fed",
  federationUuid: "fed",
  collaboratorName: "one",
};
const answerHeader = { federationUuid: "fed", receiver: "one", sender: "aggregator_fed" };

interface Seen {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

describe("the REST connector (transportProtocol rest) on the wire", () => {
  let server: Server;
  let port: number;
  const seen: Seen[] = [];
  let answer: (s: Seen, res: ServerResponse) => void = () => {};

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const s: Seen = {
          method: req.method ?? "",
          url: new URL(req.url ?? "/", "http://x"),
          headers: req.headers,
          body: Buffer.concat(chunks),
        };
        seen.push(s);
        answer(s, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(text),
    });
    res.end(text);
  };
  const client = (extra: Record<string, unknown> = {}) =>
    new AggregatorGRPCClient({
      ...identity,
      aggAddr: "127.0.0.1",
      aggPort: port,
      useTls: false,
      transportProtocol: "rest",
      retry: { intervalMs: 1, maxAttempts: 3 },
      warn: () => {},
      ...extra,
    });

  it("Ping: GET /experimental/v1/ping with OpenFL's query and identity headers", async () => {
    seen.length = 0;
    answer = (_s, res) => json(res, 200, { header: answerHeader });
    await client({ singleColCertCommonName: "" }).ping();
    const [s] = seen;
    assert.equal(s?.method, "GET");
    assert.equal(s?.url.pathname, "/experimental/v1/ping");
    assert.deepEqual(
      [...(s?.url.searchParams ?? [])],
      [
        ["collaborator_id", "one"],
        ["federation_uuid", "fed"],
      ],
    );
    assert.equal(s?.headers.sender, "one");
    assert.equal(s?.headers.receiver, "aggregator_fed");
    assert.equal(s?.headers["federation-uuid"], "fed");
    assert.equal(s?.headers["single-col-cert-cn"], "");
  });

  it("GetTasks: the JSON answer read as GetTasksResponse", async () => {
    answer = (_s, res) =>
      json(res, 200, {
        header: answerHeader,
        roundNumber: 3,
        sleepTime: 10,
        quit: true,
        tasks: [{ name: "train", applyLocal: true }],
      });
    const tasks = await client().getTasks();
    assert.equal(seen.at(-1)?.url.pathname, "/experimental/v1/tasks");
    assert.deepEqual(tasks, {
      tasks: [{ name: "train", functionName: "", taskType: "", applyLocal: true }],
      roundNumber: 3,
      sleepTime: 10,
      quit: true,
    });
  });

  it("GetAggregatedTensor: every field in the query, data_bytes from base64", async () => {
    answer = (_s, res) =>
      json(res, 200, {
        header: answerHeader,
        roundNumber: 2,
        tensor: {
          name: "w",
          roundNumber: 2,
          dataBytes: Buffer.from([1, 2, 3, 4]).toString("base64"),
          transformerMetadata: [{ intToFloat: { "0": 1.5 }, intList: [4] }],
          tags: ["compressed", "model"],
        },
      });
    const named = await client().getAggregatedTensor("w", 2, {
      tags: ["model", "x"],
      requireLossless: true,
    });
    assert.deepEqual(
      [...(seen.at(-1)?.url.searchParams ?? [])],
      [
        ["sender", "one"],
        ["receiver", "aggregator_fed"],
        ["federation_uuid", "fed"],
        ["tensor_name", "w"],
        ["round_number", "2"],
        ["report", "false"],
        ["tags", "model"],
        ["tags", "x"],
        ["require_lossless", "true"],
        ["collaborator_id", "one"],
      ],
    );
    assert.deepEqual(named.dataBytes, Uint8Array.of(1, 2, 3, 4));
    assert.deepEqual(named.transformerMetadata[0]?.intToFloat, { 0: 1.5 });
    assert.deepEqual(named.tags, ["compressed", "model"]);
  });

  it("SendLocalTaskResults: one x-protobuf-stream POST, acknowledged by {status: success}", async () => {
    answer = (_s, res) => json(res, 200, { status: "success" });
    const tensor = encodeNamedTensor(
      { shape: [3], data: [1, 2, 3] },
      { name: "w", roundNumber: 0, tags: ["trained"] },
    );
    const c = client();
    await c.sendLocalTaskResults(0, "train", 9, [tensor]);
    const s = seen.at(-1);
    assert.equal(s?.method, "POST");
    assert.equal(s?.url.pathname, "/experimental/v1/tasks/results");
    assert.equal(s?.headers["content-type"], "application/x-protobuf-stream");
    assert.equal(s?.headers["content-length"], String(s?.body.byteLength));
    assert.equal(s?.headers.receiver, "aggregator_fed");
    const body = s?.body ?? Buffer.alloc(0);
    const length = body.readUInt32BE(0);
    const results = fromBinary(
      TaskResultsSchema,
      fromBinary(DataStreamSchema, body.subarray(4, 4 + length)).npbytes,
    );
    assert.equal(results.taskName, "train");
    assert.equal(results.header?.sender, "one");
    assert.equal(body.readUInt32BE(4 + length), 0);
    assert.equal(body.byteLength, 8 + length);
    assert.equal((await c.resendBuffer.list()).length, 0);
  });

  it("an upload answered with anything but {status: success} is not acknowledged", async () => {
    answer = (_s, res) => json(res, 200, { status: "maybe" });
    const c = client({ retry: { intervalMs: 1, maxAttempts: 2 } });
    await assert.rejects(
      c.sendLocalTaskResults(0, "train", 1, []),
      /expected \{"status": "success"\}/,
    );
    assert.equal((await c.resendBuffer.list()).length, 1, "kept for a resend");
  });

  it("a 503 is retried, then the call succeeds", async () => {
    let calls = 0;
    answer = (_s, res) => {
      if (++calls === 1) {
        res.writeHead(503, { "Content-Type": "text/html" });
        res.end("<p>busy</p>");
      } else json(res, 200, { header: answerHeader });
    };
    const retries: RetryEvent[] = [];
    await client({ onRetry: (e: RetryEvent) => retries.push(e) }).ping();
    assert.equal(calls, 2);
    assert.match(
      retries[0]?.failure ?? "",
      /aggregator unavailable: busy \(HTTP 503 from GET \/experimental\/v1\/ping\)/,
    );
  });

  it("a body of JSON that is no such message is a protocol error, not retried", async () => {
    answer = (_s, res) => json(res, 200, { header: "not an object" });
    await assert.rejects(
      client().ping(),
      (e: unknown) =>
        e instanceof AggregatorCallError &&
        e.code === Code.InvalidArgument &&
        e.attempts === 1 &&
        /not a openfl\.aggregator\.PingResponse/.test(e.message),
    );
  });

  it("an answer's header that differs is a HeaderMismatchError", async () => {
    answer = (_s, res) => json(res, 200, { header: { ...answerHeader, receiver: "two" } });
    await assert.rejects(
      client().ping(),
      (e: unknown) => e instanceof HeaderMismatchError && e.field === "receiver",
    );
  });

  it("an answer larger than a message of maxMessageBytes is refused from its Content-Length", async () => {
    answer = (_s, res) => json(res, 200, { header: answerHeader, pad: "x".repeat(200_000) });
    await assert.rejects(
      client({ maxMessageBytes: 1000 }).ping(),
      (e: unknown) =>
        e instanceof AggregatorCallError && e.code === Code.ResourceExhausted && e.attempts === 1,
    );
  });

  it("a refused connection is transient: retried until maxAttempts", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(
      client({ aggPort: freePort }).ping(),
      (e: unknown) =>
        e instanceof AggregatorCallError &&
        e.reason === "max-attempts" &&
        e.platform === "connection" &&
        /ECONNREFUSED/.test(e.message),
    );
  });
});

describe("the REST connector over TLS", () => {
  it("a server that accepts TCP and never answers the TLS hello: connectTimeoutMs ends the attempt, retried as transient", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rest-tls-"));
    const pki = await createTestPki(dir, { collaborators: ["one"] });
    const silent = createNetServer(() => {}); // holds every connection, says nothing
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const retries: RetryEvent[] = [];
    try {
      const c = new AggregatorGRPCClient({
        ...identity,
        aggAddr: "localhost",
        aggPort: (silent.address() as AddressInfo).port,
        rootCertificate: pki.caCert,
        certificate: pki.collaborators.one?.cert,
        privateKey: pki.collaborators.one?.key,
        transportProtocol: "rest",
        connectTimeoutMs: 200,
        retry: { intervalMs: 1, maxAttempts: 2 },
        onRetry: (e) => retries.push(e),
        warn: () => {},
      });
      await assert.rejects(
        c.ping(),
        (e: unknown) =>
          e instanceof AggregatorCallError &&
          e.code === Code.Unavailable &&
          e.reason === "max-attempts" &&
          /within 200 ms \(connectTimeoutMs\)/.test(e.message),
      );
      assert.equal(retries.length, 1);
      await c.disconnect();
    } finally {
      silent.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("transportProtocol", () => {
  const options = { ...identity, aggAddr: "127.0.0.1", aggPort: 1, useTls: false, warn: () => {} };
  it("chooses the connector: gRPC by default and for 'grpc', REST for 'rest'", () => {
    assert.ok(createConnector(options) instanceof NodeConnector);
    assert.ok(createConnector({ ...options, transportProtocol: "grpc" }) instanceof NodeConnector);
    const rest = createConnector({ ...options, transportProtocol: "rest" });
    assert.ok(rest instanceof NodeRestConnector);
    assert.deepEqual([...(rest.headerlessResponses ?? [])], ["SendLocalTaskResults"]);
  });
  it("refuses another protocol, naming the choices", () => {
    assert.throws(
      () => new AggregatorGRPCClient({ ...options, transportProtocol: "http" as never }),
      (e: unknown) =>
        e instanceof InvalidOptionError &&
        e.option === "transportProtocol" &&
        e.expected === '"grpc" or "rest"',
    );
  });
  it("refuses gRPC's keepalive with REST", () => {
    assert.throws(
      () =>
        new AggregatorGRPCClient({
          ...options,
          transportProtocol: "rest",
          keepalive: { pingIntervalMs: 300_000 },
        }),
      (e: unknown) => e instanceof InvalidOptionError && e.option === "keepalive",
    );
  });
});
