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

describe("wholeEnvelopes at its edges", () => {
  const message = (length: number) => encodeEnvelope(0, new Uint8Array(length).fill(7));

  it("passes a message of exactly readMaxBytes and refuses one byte more, wherever the prefix falls", async () => {
    for (const cut of [0, 3]) {
      const chunks = (e: Uint8Array) => (cut === 0 ? [e] : [e.subarray(0, cut), e.subarray(cut)]);
      const atLimit = await split(chunks(message(100)), 100);
      assert.equal(atLimit[0]?.data.byteLength, 100, `cut ${cut}: a message of readMaxBytes`);
      await assert.rejects(
        split(chunks(message(101)), 100),
        /larger than configured readMaxBytes/,
        `cut ${cut}: readMaxBytes + 1`,
      );
    }
  });

  it("passes on the oversized message's own prefix when it follows another in the same chunk", async () => {
    const first = message(3);
    const oversized = message(200);
    const out = await rechunk([Buffer.concat([first, oversized])], 100);
    assert.deepEqual(
      out.map((c) => Buffer.from(c).toString("hex")),
      [Buffer.from(first).toString("hex"), Buffer.from(oversized.subarray(0, 5)).toString("hex")],
    );
  });

  it("passes envelopes lying whole inside a chunk as views of it, no copy", async () => {
    const chunk = Buffer.concat([message(4), message(6), message(2)]);
    const out = await rechunk([chunk]);
    assert.equal(out.length, 3);
    for (const piece of out) assert.equal(piece.buffer, chunk.buffer, "a view of the chunk");
    assert.deepEqual(
      out.map((c) => c.byteOffset - chunk.byteOffset),
      [0, 9, 20],
    );
  });

  it("passes an empty message on before reading further, even if the body then stalls", async () => {
    const empty = encodeEnvelope(0, new Uint8Array(0));
    async function* stalls() {
      yield empty.subarray(0, 2);
      yield empty.subarray(2);
      await new Promise(() => {}); // the peer sends nothing more
    }
    const first = wholeEnvelopes(stalls(), 10).next();
    const timeout = new Promise((resolve) => setTimeout(resolve, 2000, "stalled"));
    const got = await Promise.race([first, timeout]);
    assert.notEqual(got, "stalled", "the empty message waited for more of the body");
    assert.deepEqual((got as IteratorResult<Uint8Array>).value, empty);
  });

  it("reports a body that ends inside a prefix as an incomplete envelope", async () => {
    await assert.rejects(split([message(10).subarray(0, 3)]), /incomplete envelope/);
  });

  it("allocates a message of up to 1 MiB at its first bytes", async () => {
    const stream = message(100_000);
    let received = 0;
    async function* frames() {
      for (let offset = 0; offset < stream.byteLength; offset += 10_000) {
        const frame = stream.subarray(offset, offset + 10_000);
        received += frame.byteLength;
        yield frame;
      }
    }
    const at: number[] = [];
    for await (const _ of wholeEnvelopes(frames(), 2 ** 30, (bytes) => {
      at.push(received);
      return new Uint8Array(bytes);
    }));
    assert.deepEqual(at, [10_000]);
  });

  it("allocates a larger message as soon as 1 MiB + 4 x the bytes received covers it", async () => {
    // 5 prefix bytes + 1000 message bytes received: 1 MiB + 4 x 1005 is exactly its size.
    const size = 1024 * 1024 + 4 * 1005;
    const stream = message(size - 5);
    const frames = [stream.subarray(0, 5), stream.subarray(5, 1005), stream.subarray(1005, 1006)];
    let received = 0;
    async function* body() {
      for (const f of frames) {
        received += f.byteLength;
        yield f;
      }
      received += stream.byteLength - 1006;
      yield stream.subarray(1006);
    }
    const at: number[] = [];
    for await (const _ of wholeEnvelopes(body(), 2 ** 30, (bytes) => {
      at.push(received);
      return new Uint8Array(bytes);
    }));
    assert.deepEqual(at, [1005]);
  });
});
