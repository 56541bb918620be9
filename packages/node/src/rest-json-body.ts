// Reads a JSON answer of OpenFL's REST server in which one string is large: a tensor's
// data_bytes, base64 (protobuf's JSON mapping, as json_format writes it). That string is
// decoded as its bytes arrive, into one buffer; everything else is kept as JSON text, with
// that string left empty. So a 64 MiB tensor costs its 64 MiB once, not also the ~86 MiB body
// and the ~86 MiB string JSON.parse would make of it.
import { Code, ConnectError } from "@connectrpc/connect";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Longest key remembered (keys of OpenFL's messages are short). */
const KEY_MAX_BYTES = 64;

type Frame = { kind: "object"; key: string | undefined; expectKey: boolean } | { kind: "array" };

export interface JsonWithBytes {
  /** The parsed JSON, with the string at `bytesPath` empty. */
  readonly json: unknown;
  /** The decoded string at `bytesPath`; undefined when the body has none. */
  readonly bytes: Uint8Array | undefined;
}

/**
 * Parses `body`; the base64 string at `bytesPath` (e.g. ["tensor", "dataBytes"]: keys of
 * nested objects) is decoded into one buffer sized from `bodyBytes` (the Content-Length; the
 * decoded data is at most 3/4 of it) when known, else gathered and joined once at the end.
 * Throws a ConnectError (InvalidArgument: "protocol error: ...") for a body that is not JSON.
 */
export async function readJsonWithBytes(
  body: AsyncIterable<Uint8Array>,
  bytesPath: readonly string[],
  bodyBytes: number | undefined,
): Promise<JsonWithBytes> {
  const text: Buffer[] = [];
  const stack: Frame[] = [];
  let inString = false;
  let escaped = false;
  let stringIsKey = false;
  let key: number[] = [];
  /** Inside the value at bytesPath: its base64 goes to `decoder`. */
  let decoder: Base64Decoder | undefined;
  let found: Uint8Array | undefined;
  let consumed = 0;

  const atBytesPath = () =>
    stack.length === bytesPath.length &&
    stack.every((f, i) => f.kind === "object" && !f.expectKey && f.key === bytesPath[i]);

  for await (const chunk of body) {
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    consumed += bytes.byteLength;
    let from = 0; // start of the bytes of this chunk still to keep as text
    let i = 0;
    while (i < bytes.byteLength) {
      if (decoder !== undefined) {
        const end = bytes.indexOf(QUOTE, i);
        const stop = end < 0 ? bytes.byteLength : end;
        decoder.write(bytes.subarray(i, stop));
        if (end < 0) {
          i = bytes.byteLength;
          from = i;
          break;
        }
        found = decoder.finish();
        decoder = undefined;
        from = end; // the closing quote is kept: the text reads ""
        i = end + 1;
        continue;
      }
      const c = bytes[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) {
          inString = false;
          const top = stack.at(-1);
          if (stringIsKey && top?.kind === "object") top.key = Buffer.from(key).toString("utf8");
        } else if (stringIsKey && key.length < KEY_MAX_BYTES) key.push(c);
        i++;
        continue;
      }
      const top = stack.at(-1);
      switch (c) {
        case QUOTE:
          if (top?.kind === "object" && top.expectKey) {
            stringIsKey = true;
            key = [];
            inString = true;
          } else if (atBytesPath() && found === undefined) {
            text.push(Buffer.from(bytes.subarray(from, i + 1)));
            decoder = new Base64Decoder(
              bodyBytes === undefined ? undefined : bodyBytes - consumed + bytes.byteLength - i,
            );
            from = i + 1;
          } else {
            stringIsKey = false;
            inString = true;
          }
          break;
        case 0x7b: // {
          stack.push({ kind: "object", key: undefined, expectKey: true });
          break;
        case 0x5b: // [
          stack.push({ kind: "array" });
          break;
        case 0x7d: // }
        case 0x5d: // ]
          stack.pop();
          break;
        case 0x3a: // :
          if (top?.kind === "object") top.expectKey = false;
          break;
        case 0x2c: // ,
          if (top?.kind === "object") top.expectKey = true;
          break;
      }
      i++;
    }
    if (from < bytes.byteLength && decoder === undefined)
      text.push(Buffer.from(bytes.subarray(from)));
  }
  if (decoder !== undefined) throw protocolError("the body ended inside a base64 string");
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(text).toString("utf8"));
  } catch (error) {
    throw protocolError(`the body is not JSON (${(error as Error).message})`);
  }
  return { json, bytes: found };
}

function protocolError(why: string): ConnectError {
  return new ConnectError(`protocol error: ${why}`, Code.InvalidArgument);
}

/**
 * Decodes base64 handed in pieces cut anywhere: whole 4-character groups at once, the rest
 * carried over. Into one buffer of `capacity` bytes when an upper bound is known.
 */
class Base64Decoder {
  readonly #target: Buffer | undefined;
  readonly #pieces: Buffer[] = [];
  #written = 0;
  #carry = "";

  constructor(textBytesAtMost: number | undefined) {
    this.#target =
      textBytesAtMost === undefined
        ? undefined
        : Buffer.allocUnsafeSlow(Math.ceil(Math.max(0, textBytesAtMost) / 4) * 3);
  }

  write(piece: Uint8Array): void {
    if (piece.includes(BACKSLASH)) throw protocolError("an escape inside a base64 string");
    const text =
      this.#carry +
      Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength).toString("latin1");
    const whole = text.length - (text.length % 4);
    this.#carry = text.slice(whole);
    if (whole > 0) this.#decode(text.slice(0, whole));
  }

  finish(): Uint8Array {
    if (this.#carry.length > 0) this.#decode(this.#carry);
    if (this.#target !== undefined) {
      return new Uint8Array(this.#target.buffer, this.#target.byteOffset, this.#written);
    }
    const joined = Buffer.concat(this.#pieces);
    return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
  }

  #decode(text: string): void {
    if (this.#target === undefined) {
      this.#pieces.push(Buffer.from(text, "base64"));
      return;
    }
    this.#written += this.#target.write(text, this.#written, "base64");
  }
}
