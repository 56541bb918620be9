// Pins the behaviour of connect-es's envelope decoder as patched by this project
// (patches/@connectrpc__connect@2.3.0.patch): any split of a stream of enveloped messages
// into chunks decodes to exactly those messages.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type EnvelopedMessage,
  encodeEnvelope,
  transformSplitEnvelope,
} from "@connectrpc/connect/protocol";

function seeded(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

async function split(chunks: Uint8Array[], readMaxBytes = 1e9): Promise<EnvelopedMessage[]> {
  async function* source() {
    yield* chunks;
  }
  const out: EnvelopedMessage[] = [];
  for await (const env of transformSplitEnvelope(readMaxBytes)(source())) out.push(env);
  return out;
}

describe("connect envelope decoder (patched)", () => {
  it("decodes any chunking of any message sequence exactly, leaving nothing buffered", async () => {
    const random = seeded(7);
    for (let trial = 0; trial < 1500; trial++) {
      const messages = Array.from({ length: Math.floor(random() * 5) }, (_, i) => {
        const length = Math.floor(random() * (random() < 0.2 ? 100_000 : 20));
        return { flags: i & 1, data: Uint8Array.from({ length }, (_, j) => (j * 7 + i) & 0xff) };
      });
      const stream = Buffer.concat(messages.map((m) => encodeEnvelope(m.flags, m.data)));
      const chunks: Uint8Array[] = [];
      for (let offset = 0; offset < stream.byteLength; ) {
        const size = Math.max(1, Math.floor(random() * (random() < 0.5 ? 8 : 70_000)));
        chunks.push(stream.subarray(offset, offset + size));
        offset += size;
      }
      // A leftover partial message would throw "incomplete envelope".
      const decoded = await split(chunks);
      assert.equal(decoded.length, messages.length, `trial ${trial}`);
      decoded.forEach((env, i) => {
        assert.equal(env.flags, messages[i]?.flags);
        assert.deepEqual(env.data, messages[i]?.data);
      });
    }
  });

  it("reports a stream that ends inside a message", async () => {
    await assert.rejects(
      split([encodeEnvelope(0, new Uint8Array(10)).subarray(0, 7)]),
      /incomplete envelope/,
    );
  });

  it("still enforces the read limit", async () => {
    await assert.rejects(
      split([encodeEnvelope(0, new Uint8Array(200))], 100),
      /larger than configured readMaxBytes/,
    );
  });
});
