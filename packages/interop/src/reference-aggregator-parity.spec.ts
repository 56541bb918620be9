// Our TS ReferenceAggregator and OpenFL 1.9's real AggregatorGRPCServer, given the same
// identity, model and requests, must answer byte-for-byte alike: the same response bytes on
// success, the same gRPC code and message on failure. Requests go out raw (plain Connect gRPC
// client, no retries), so malformed ones the collaborator client would never send are covered.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { encodeNamedTensor, type NamedTensor } from "@openfl-connect/core";
import {
  Aggregator,
  type DataStreamSchema,
  GetAggregatedTensorResponseSchema,
  GetTasksResponseSchema,
  MessageHeaderSchema,
  PingResponseSchema,
  SendLocalTaskResultsResponseSchema,
  TaskResultsSchema,
} from "@openfl-connect/core/protocol";
import type { ReferenceAggregator } from "@openfl-connect/reference-aggregator";
import type { TestPki } from "@openfl-connect/reference-aggregator/pki";
import {
  AGGREGATOR_UUID,
  createInteropPki,
  FEDERATION_UUID,
  type OpenFLServer,
  removeDir,
  startInteropReferenceAggregator,
  startOpenFLServer,
} from "./openfl-fixture.js";

type Outcome = { ok: Uint8Array } | { code: Code; message: string };

type HeaderFields = "sender" | "receiver" | "federationUuid" | "singleColCertCommonName";

const header = (overrides: Partial<Record<HeaderFields, string>> = {}) =>
  create(MessageHeaderSchema, {
    sender: "collaborator1",
    receiver: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    ...overrides,
  });

/** The fixture's model, so both servers hold the same tensors. */
const convWeight = Float32Array.from({ length: 60 }, (_, i) => i / 7);

/** A serialized round-0 "train" TaskResults from collaborator1 with one tensor. */
function trainResults(tensor: NamedTensor): Uint8Array {
  return toBinary(
    TaskResultsSchema,
    create(TaskResultsSchema, {
      header: header(),
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors: [tensor],
    }),
  );
}

describe("TS ReferenceAggregator answers exactly like OpenFL 1.9's real server", () => {
  let dir: string;
  let pki: TestPki;
  let openfl: OpenFLServer;
  let reference: ReferenceAggregator;
  let openflPort: number;
  let referencePort: number;

  const transport = (port: number, as = "collaborator1"): Transport => {
    const pair = pki.collaborators[as];
    assert.ok(pair);
    return createGrpcTransport({
      baseUrl: `https://localhost:${port}`,
      nodeOptions: {
        ca: readFileSync(pki.caCert),
        cert: readFileSync(pair.cert),
        key: readFileSync(pair.key),
      },
    });
  };

  /** Runs `call` against both servers and returns both outcomes (OpenFL's first). */
  async function both(
    call: (client: ReturnType<typeof createClient<typeof Aggregator>>) => Promise<Uint8Array>,
    as = "collaborator1",
  ): Promise<[Outcome, Outcome]> {
    const run = async (port: number): Promise<Outcome> => {
      try {
        return { ok: await call(createClient(Aggregator, transport(port, as))) };
      } catch (error) {
        const e = ConnectError.from(error);
        return { code: e.code, message: e.rawMessage };
      }
    };
    return Promise.all([run(openflPort), run(referencePort)]);
  }

  async function* chunks(
    ...parts: Uint8Array[]
  ): AsyncIterable<MessageInitShape<typeof DataStreamSchema>> {
    for (const npbytes of parts) yield { size: npbytes.byteLength, npbytes };
  }

  before(async () => {
    ({ dir, pki } = await createInteropPki(["collaborator1", "stranger"]));
    openfl = await startOpenFLServer({
      pki,
      recordDir: join(dir, "records"),
      collaborators: ["collaborator1", "collaborator2"],
      rounds: 1,
      tasks: ["train"],
      tensorWaitSeconds: 0.3,
    });
    openflPort = openfl.port;
    ({ aggregator: reference, port: referencePort } = await startInteropReferenceAggregator(pki, {
      convWeight,
      rounds: 1,
      tensorWaitMs: 300,
    }));
  });

  after(async () => {
    await reference?.stop();
    await openfl?.stop();
    await removeDir(dir);
  });

  it("Ping: identical response bytes", async () => {
    const [a, b] = await both(async (c) =>
      toBinary(PingResponseSchema, await c.ping({ header: header() })),
    );
    assert.deepEqual(b, a);
  });

  it("GetTasks: identical response bytes", async () => {
    const [a, b] = await both(async (c) =>
      toBinary(GetTasksResponseSchema, await c.getTasks({ header: header() })),
    );
    assert.ok("ok" in a, JSON.stringify(a));
    assert.deepEqual(b, a);
  });

  for (const [name, tensorName, tags] of [
    ["conv.weight as model", "conv.weight", ["model"]],
    ["the 0-d scalar", "scale", ["model"]],
    ["with the compressed tag in the request", "conv.weight", ["compressed", "model"]],
    ["a tag naming another collaborator (empty tensor)", "conv.weight", ["collaborator2"]],
  ] as const) {
    it(`GetAggregatedTensor ${name}: identical response bytes`, async () => {
      const [a, b] = await both(async (c) =>
        toBinary(
          GetAggregatedTensorResponseSchema,
          await c.getAggregatedTensor({
            header: header(),
            tensorName,
            roundNumber: 0,
            tags: [...tags],
            requireLossless: true,
          }),
        ),
      );
      assert.ok("ok" in a, JSON.stringify(a));
      assert.deepEqual(b, a);
    });
  }

  it("GetAggregatedTensor of a missing tensor: same UNKNOWN message", async () => {
    const [a, b] = await both(async (c) =>
      toBinary(
        GetAggregatedTensorResponseSchema,
        await c.getAggregatedTensor({ header: header(), tensorName: "missing", tags: ["model"] }),
      ),
    );
    assert.deepEqual(b, a);
  });

  for (const [name, h] of [
    ["wrong receiver", { receiver: "aggregator_other" }],
    ["wrong federation uuid", { federationUuid: "other.yaml_1" }],
    ["wrong single_col_cert_common_name", { singleColCertCommonName: "someone" }],
  ] as const) {
    it(`Ping with a ${name}: same UNKNOWN message`, async () => {
      const [a, b] = await both(async (c) =>
        toBinary(PingResponseSchema, await c.ping({ header: header(h) })),
      );
      assert.ok("code" in a && a.code === Code.Unknown, JSON.stringify(a));
      assert.deepEqual(b, a);
    });
  }

  it("Ping from an unauthorised collaborator whose CN matches: same UNAUTHENTICATED", {
    timeout: 20_000,
  }, async () => {
    const [a, b] = await both(
      async (c) =>
        toBinary(PingResponseSchema, await c.ping({ header: header({ sender: "stranger" }) })),
      "stranger",
    );
    assert.ok("code" in a && a.code === Code.Unauthenticated, JSON.stringify(a));
    assert.deepEqual(b, a);
  });

  it("InteropRelay: same UNIMPLEMENTED", async () => {
    const [a, b] = await both(async (c) => {
      await c.interopRelay({ header: header() });
      return new Uint8Array(0);
    });
    assert.ok("code" in a && a.code === Code.Unimplemented, JSON.stringify(a));
    assert.deepEqual(b, a);
  });

  it("SendLocalTaskResults with an empty stream: same UNKNOWN message", async () => {
    const [a, b] = await both(async (c) =>
      toBinary(SendLocalTaskResultsResponseSchema, await c.sendLocalTaskResults(chunks())),
    );
    assert.ok("code" in a && a.code === Code.Unknown, JSON.stringify(a));
    assert.deepEqual(b, a);
  });

  it("SendLocalTaskResults with a tensor lacking the compressed tag: same UNKNOWN message", async () => {
    const tensor = encodeNamedTensor(
      { shape: [2], data: [1, 2] },
      { name: "conv.weight", roundNumber: 0, tags: ["trained"] },
    );
    tensor.tags = ["trained"];
    const bytes = trainResults(tensor);
    const [a, b] = await both(async (c) =>
      toBinary(SendLocalTaskResultsResponseSchema, await c.sendLocalTaskResults(chunks(bytes))),
    );
    assert.ok("code" in a && a.code === Code.Unknown, JSON.stringify(a));
    assert.deepEqual(b, a);
  });

  it("SendLocalTaskResults as one 3 MiB chunk with a wrong size field: both accept it", async () => {
    // Not a tensor of the model: the TS aggregator refuses a model tensor of another shape on
    // arrival (OpenFL accepts it and fails at the end of the round).
    const tensor = encodeNamedTensor(
      { shape: [786_432], data: new Float32Array(786_432).fill(0.5) },
      { name: "extra.weight", roundNumber: 0, tags: ["trained"] },
    );
    const bytes = trainResults(tensor);
    assert.ok(bytes.byteLength > 3 * 1024 * 1024);
    const [a, b] = await both(async (c) => {
      async function* one(): AsyncIterable<MessageInitShape<typeof DataStreamSchema>> {
        yield { size: 7, npbytes: bytes };
      }
      return toBinary(SendLocalTaskResultsResponseSchema, await c.sendLocalTaskResults(one()));
    });
    assert.ok("ok" in a, JSON.stringify(a));
    assert.deepEqual(b, a);
    assert.equal(reference.state.receivedResults.length, 1);
    assert.deepEqual(await openfl.recordFiles(), ["results-r0-collaborator1-train.json"]);
    const record = await openfl.record("results-r0-collaborator1-train.json");
    assert.equal(record.tensors[0]?.sha256, reference.state.receivedResults[0]?.tensors[0]?.sha256);
  });
});
