import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readJsonWithBytes } from "./rest-json-body.js";

const PATH = ["tensor", "dataBytes"] as const;

/** The body cut into pieces of `size` bytes (every cut point, for small sizes). */
async function* pieces(text: string, size: number) {
  const bytes = Buffer.from(text, "utf8");
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

/** What Flask's jsonify writes for a GetAggregatedTensorResponse (sorted keys, compact). */
function tensorBody(data: Uint8Array, extra = "") {
  return `{"header":{"federationUuid":"fed","receiver":"one","sender":"agg"},"tensor":{"dataBytes":"${Buffer.from(data).toString("base64")}","lossless":true,"name":"w\\"x","tags":["compressed","model"],"transformerMetadata":[{"intList":[3,4]}]}${extra}}`;
}

describe("readJsonWithBytes", () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) % 256);

  for (const size of [1, 2, 3, 5, 7, 64, 100_000]) {
    for (const known of [true, false]) {
      it(`pieces of ${size} bytes, Content-Length ${known ? "known" : "unknown"}: the bytes decoded, the rest parsed`, async () => {
        const body = tensorBody(data);
        const { json, bytes } = await readJsonWithBytes(
          pieces(body, size),
          PATH,
          known ? Buffer.byteLength(body) : undefined,
        );
        assert.deepEqual(bytes, data);
        assert.deepEqual(json, {
          header: { federationUuid: "fed", receiver: "one", sender: "agg" },
          tensor: {
            dataBytes: "",
            lossless: true,
            name: 'w"x',
            tags: ["compressed", "model"],
            transformerMetadata: [{ intList: [3, 4] }],
          },
        });
      });
    }
  }

  it("a decoded length that is not a multiple of 3 (padding)", async () => {
    for (const n of [0, 1, 2, 3, 4, 5]) {
      const d = Uint8Array.from({ length: n }, (_, i) => i + 1);
      const body = tensorBody(d);
      const { bytes } = await readJsonWithBytes(pieces(body, 3), PATH, Buffer.byteLength(body));
      assert.deepEqual(bytes, d, `${n} bytes`);
    }
  });

  it("a dataBytes key elsewhere (at the top, in the header) is parsed as JSON, not decoded", async () => {
    const body = `{"dataBytes":"QUJD","header":{"dataBytes":"QUJD"},"tensor":{"name":"dataBytes"}}`;
    const { json, bytes } = await readJsonWithBytes(pieces(body, 4), PATH, undefined);
    assert.equal(bytes, undefined);
    assert.deepEqual(json, {
      dataBytes: "QUJD",
      header: { dataBytes: "QUJD" },
      tensor: { name: "dataBytes" },
    });
  });

  it("whitespace around the colon and commas (another JSON writer)", async () => {
    const body = `{ "tensor" : { "name" : "w" , "dataBytes" : "AQID" } }`;
    const { json, bytes } = await readJsonWithBytes(pieces(body, 2), PATH, undefined);
    assert.deepEqual(bytes, Uint8Array.of(1, 2, 3));
    assert.deepEqual(json, { tensor: { name: "w", dataBytes: "" } });
  });

  it("a 16 MiB tensor lands in one buffer, not in a copy per piece", async () => {
    const big = new Uint8Array(16 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    const body = tensorBody(big);
    const { bytes } = await readJsonWithBytes(pieces(body, 65536), PATH, Buffer.byteLength(body));
    assert.ok(bytes);
    assert.equal(bytes.byteLength, big.byteLength);
    assert.ok(Buffer.from(bytes).equals(Buffer.from(big)));
    // One buffer sized from the Content-Length: at most 3/4 of the body.
    assert.ok(bytes.buffer.byteLength <= Math.ceil(Buffer.byteLength(body) / 4) * 3);
  });

  it("a body that is not JSON is a protocol error", async () => {
    await assert.rejects(
      readJsonWithBytes(pieces("<html>", 3), PATH, 6),
      /protocol error: the body is not JSON/,
    );
  });

  it("a body that ends inside the base64 string is a protocol error", async () => {
    await assert.rejects(
      readJsonWithBytes(pieces(`{"tensor":{"dataBytes":"QUJD`, 5), PATH, undefined),
      /protocol error: the body ended inside a base64 string/,
    );
  });

  it("an escape inside the base64 string is a protocol error", async () => {
    await assert.rejects(
      readJsonWithBytes(pieces(`{"tensor":{"dataBytes":"QU\\/D"}}`, 50), PATH, undefined),
      /protocol error: an escape inside a base64 string/,
    );
  });
});
