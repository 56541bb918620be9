// wholeEnvelopes in front of connect-es's own (stock) envelope decoder, as both adapters use it:
// any split of a stream of enveloped messages into chunks comes out as one chunk per envelope,
// the same bytes, and decodes to exactly those messages; the decoder's errors are unchanged.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type EnvelopedMessage,
  encodeEnvelope,
  transformSplitEnvelope,
} from "@connectrpc/connect/protocol";
import { wholeEnvelopes } from "./whole-envelopes.js";

function seeded(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

async function* source(chunks: Uint8Array[]) {
  yield* chunks;
}

async function rechunk(chunks: Uint8Array[], readMaxBytes = 1e9): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of wholeEnvelopes(source(chunks), readMaxBytes)) out.push(chunk);
  return out;
}

async function split(chunks: Uint8Array[], readMaxBytes = 1e9): Promise<EnvelopedMessage[]> {
  const out: EnvelopedMessage[] = [];
  const whole = wholeEnvelopes(source(chunks), readMaxBytes);
  for await (const env of transformSplitEnvelope(readMaxBytes)(whole)) out.push(env);
  return out;
}

describe("wholeEnvelopes + connect's envelope decoder", () => {
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
      const whole = await rechunk(chunks);
      assert.deepEqual(
        whole.map((c) => Buffer.from(c).toString("hex")),
        messages.map((m) => Buffer.from(encodeEnvelope(m.flags, m.data)).toString("hex")),
        `trial ${trial}: one chunk per envelope, same bytes`,
      );
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

  it("still enforces the read limit, without assembling the oversized message", async () => {
    const oversized = encodeEnvelope(0, new Uint8Array(200));
    assert.deepEqual(await rechunk([oversized.subarray(0, 3), oversized.subarray(3)], 100), [
      oversized.subarray(0, 5),
    ]);
    await assert.rejects(split([oversized], 100), /larger than configured readMaxBytes/);
  });

  it("passes an empty message on as soon as its prefix is complete", async () => {
    const empty = encodeEnvelope(0x80, new Uint8Array(0));
    const chunks: Uint8Array[] = [];
    for await (const c of wholeEnvelopes(source([empty.subarray(0, 2), empty.subarray(2)]), 10)) {
      chunks.push(c);
    }
    assert.deepEqual(chunks, [empty]);
  });

  it("does not allocate what a prefix announces before the bytes arrive (1 GiB announced, 5 bytes sent)", async () => {
    const allocated: number[] = [];
    const prefix = new Uint8Array([0, 0x40, 0, 0, 0]); // flags 0, length 2^30
    const chunks = [prefix, Uint8Array.of(1, 2, 3, 4, 5)];
    const out: Uint8Array[] = [];
    for await (const chunk of wholeEnvelopes(source(chunks), 2 ** 31, (bytes) => {
      allocated.push(bytes);
      return new Uint8Array(bytes);
    })) {
      out.push(chunk);
    }
    assert.deepEqual(allocated, [], "no envelope buffer for a message that never arrived");
    // What arrived is passed on, so the decoder reports the incomplete envelope as before.
    assert.deepEqual(out, [Uint8Array.of(0, 0x40, 0, 0, 0, 1, 2, 3, 4, 5)]);
  });

  it("allocates a large message's buffer once, when a quarter of it has arrived, at most 1 MiB + 4 x the bytes received", async () => {
    const data = Uint8Array.from({ length: 16 * 1024 * 1024 }, (_, i) => (i * 31) & 0xff);
    const stream = encodeEnvelope(1, data);
    let received = 0;
    async function* frames() {
      for (let offset = 0; offset < stream.byteLength; offset += 16_384) {
        const frame = stream.subarray(offset, offset + 16_384);
        received += frame.byteLength;
        yield frame;
      }
    }
    const allocations: { bytes: number; received: number }[] = [];
    const out: Uint8Array[] = [];
    for await (const chunk of wholeEnvelopes(frames(), 2 ** 30, (bytes) => {
      allocations.push({ bytes, received });
      return new Uint8Array(bytes);
    })) {
      out.push(chunk);
    }
    assert.equal(allocations.length, 1, "one buffer per message");
    const [only] = allocations;
    assert.equal(only?.bytes, stream.byteLength);
    assert.ok(
      (only?.bytes ?? 0) <= 1024 * 1024 + 4 * (only?.received ?? 0),
      `allocated ${only?.bytes} bytes after ${only?.received} had arrived`,
    );
    assert.equal(out.length, 1);
    assert.ok(Buffer.from(out[0] as Uint8Array).equals(Buffer.from(stream)), "the same bytes");
  });
});
