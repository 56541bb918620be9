import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { encodeEnvelope, type UniversalClientFn } from "@connectrpc/connect/protocol";
import { concatParts } from "@openfl-connect/core";
import {
  Aggregator,
  type DataStream,
  DataStreamSchema,
  GetTasksRequestSchema,
  GetTasksResponseSchema,
  SendLocalTaskResultsResponseSchema,
} from "@openfl-connect/core/protocol";
import { grpcTransport } from "./node-connector.js";

/** An HTTP/2 client stand-in: keeps every body part it is given, answers `response`. */
function recordingClient(response: Uint8Array) {
  const bodies: Uint8Array[][] = [];
  const client: UniversalClientFn = async (request) => {
    const parts: Uint8Array[] = [];
    for await (const part of request.body ?? []) parts.push(part);
    bodies.push(parts);
    const trailer = new Headers();
    return {
      status: 200,
      header: new Headers({ "content-type": "application/grpc+proto" }),
      trailer,
      body: (async function* () {
        yield encodeEnvelope(0, response);
        trailer.set("grpc-status", "0");
      })(),
    };
  };
  return { client, bodies };
}

async function* stream(chunks: DataStream[]) {
  yield* chunks;
}

describe("grpcTransport uploads", () => {
  it("sends DataStream chunks as framing plus views of the caller's bytes, exactly connect's encoding", async () => {
    const tensor = Uint8Array.from({ length: 3 * 65536 + 7 }, (_, i) => (i * 13) & 0xff);
    const chunks = [
      create(DataStreamSchema, { size: 131072, npbytes: tensor.subarray(0, 131072) }),
      create(DataStreamSchema, { size: 65543, npbytes: tensor.subarray(131072) }),
      create(DataStreamSchema, { size: 0, npbytes: new Uint8Array(0) }),
    ];
    const { client, bodies } = recordingClient(
      toBinary(SendLocalTaskResultsResponseSchema, create(SendLocalTaskResultsResponseSchema)),
    );
    const aggregator = createClient(Aggregator, grpcTransport("http://test", client, 1 << 30));
    await aggregator.sendLocalTaskResults(stream(chunks));

    const body = bodies[0] ?? [];
    const expected = concatParts(
      chunks.map((c) => encodeEnvelope(0, toBinary(DataStreamSchema, c))),
    );
    assert.deepEqual(concatParts(body), expected);
    // Before: each chunk was serialized and enveloped into fresh buffers (copies).
    const views = body.filter((part) => part.buffer === tensor.buffer);
    assert.deepEqual(
      views.map((v) => [v.byteOffset, v.byteLength]),
      [
        [0, 131072],
        [131072, 65543],
      ],
    );
  });

  it("refuses a chunk over the message limit, as connect does", async () => {
    const { client } = recordingClient(new Uint8Array(0));
    const aggregator = createClient(Aggregator, grpcTransport("http://test", client, 1000));
    const big = create(DataStreamSchema, { size: 2000, npbytes: new Uint8Array(2000) });
    await assert.rejects(
      aggregator.sendLocalTaskResults(stream([big])),
      /larger than configured writeMaxBytes 1000/,
    );
  });

  it("leaves other calls' bodies to connect", async () => {
    const { client, bodies } = recordingClient(
      toBinary(GetTasksResponseSchema, create(GetTasksResponseSchema, { roundNumber: 3 })),
    );
    const aggregator = createClient(Aggregator, grpcTransport("http://test", client, 1 << 30));
    const response = await aggregator.getTasks({});
    assert.equal(response.roundNumber, 3);
    assert.deepEqual(
      concatParts(bodies[0] ?? []),
      encodeEnvelope(0, toBinary(GetTasksRequestSchema, create(GetTasksRequestSchema))),
    );
  });
});
