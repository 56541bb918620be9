import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { withWholeEnvelopes } from "./whole-envelope-fetch.js";

/** Every test's own deadline, so that a hang fails naming the test. */
const deadline = { timeout: 10_000 };

/** A gRPC-web data envelope: flag 0, big-endian length, the message. */
function envelope(message: number[]): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

const concat = (chunks: Uint8Array[]) => Uint8Array.from(chunks.flatMap((c) => [...c]));

/** A proxy response whose body arrives in `pieces`-byte chunks; records whether it was cancelled. */
function proxyResponse(bytes: Uint8Array, pieces: number, init: ResponseInit = { status: 200 }) {
  const state = { cancelled: false, sent: 0 };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.sent >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(state.sent, state.sent + pieces));
      state.sent += pieces;
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { response: new Response(body, init), state };
}

async function readAll(response: Response): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

describe("withWholeEnvelopes", () => {
  it("hands on one whole envelope per chunk, the bytes unchanged", deadline, async () => {
    const first = envelope([1, 2, 3, 4, 5, 6, 7]);
    const second = envelope([9]);
    const trailer = Uint8Array.of(0x80, 0, 0, 0, 2, 0x61, 0x62);
    const { response } = proxyResponse(concat([first, second, trailer]), 3);
    const wrapped = await withWholeEnvelopes(async () => response, 1024)("https://proxy/x");
    const chunks = await readAll(wrapped);
    assert.deepEqual(
      chunks.map((c) => [...c]),
      [[...first], [...second], [...trailer]],
    );
  });

  it("keeps the proxy's status, status text and headers", deadline, async () => {
    const { response } = proxyResponse(envelope([1]), 2, {
      status: 200,
      statusText: "OK from envoy",
      headers: { "content-type": "application/grpc-web+proto", "grpc-status": "0" },
    });
    const wrapped = await withWholeEnvelopes(async () => response, 1024)("https://proxy/x");
    assert.equal(wrapped.status, 200);
    assert.equal(wrapped.statusText, "OK from envoy");
    assert.equal(wrapped.headers.get("content-type"), "application/grpc-web+proto");
    assert.equal(wrapped.headers.get("grpc-status"), "0");
  });

  it(
    "passes the request to the wrapped fetch, and a response without body as it is",
    deadline,
    async () => {
      const seen: unknown[] = [];
      const empty = new Response(null, { status: 503 });
      const wrapped = withWholeEnvelopes(async (input, init) => {
        seen.push(input, init?.method);
        return empty;
      }, 1024);
      assert.equal(await wrapped("https://proxy/x", { method: "POST" }), empty);
      assert.deepEqual(seen, ["https://proxy/x", "POST"]);
    },
  );

  it("rejects as the wrapped fetch rejects", deadline, async () => {
    const failure = new TypeError("Failed to fetch");
    const wrapped = withWholeEnvelopes(async () => {
      throw failure;
    }, 1024);
    await assert.rejects(wrapped("https://proxy/x"), (e) => e === failure);
  });

  for (const [limit, whole] of [
    [9, false],
    [10, true],
    [11, true],
  ] as const) {
    it(
      `a 10-byte message with read limit ${limit} is ${whole ? "passed whole" : "cut to its prefix and the download stopped"}`,
      deadline,
      async () => {
        const message = envelope([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        const { response, state } = proxyResponse(concat([message, envelope([1])]), 4);
        const wrapped = await withWholeEnvelopes(async () => response, limit)("https://proxy/x");
        const chunks = await readAll(wrapped);
        if (whole) {
          assert.deepEqual(
            chunks.map((c) => [...c]),
            [[...message], [...envelope([1])]],
          );
        } else {
          // The prefix alone: connect-web's decoder fails the call with ResourceExhausted.
          assert.deepEqual(
            chunks.map((c) => [...c]),
            [[...message.subarray(0, 5)]],
          );
          assert.equal(state.cancelled, true, "the rest of the body is still being downloaded");
        }
      },
    );
  }

  it("cancelling the body stops the download", deadline, async () => {
    const { response, state } = proxyResponse(concat([envelope([1]), envelope([2])]), 6);
    const wrapped = await withWholeEnvelopes(async () => response, 1024)("https://proxy/x");
    const reader = (wrapped.body as ReadableStream<Uint8Array>).getReader();
    assert.deepEqual([...((await reader.read()).value ?? [])], [...envelope([1])]);
    await reader.cancel();
    assert.equal(state.cancelled, true);
  });
});
