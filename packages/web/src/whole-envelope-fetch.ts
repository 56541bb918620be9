import { wholeEnvelopes } from "@openfl-connect/core/internal";

/**
 * Wraps `fetch` so the response body reaches connect-web's envelope decoder one whole gRPC-web
 * message per chunk: the decoder is quadratic in the chunks of one message (see core's
 * `wholeEnvelopes`). Status, headers and errors are the wrapped fetch's own.
 */
export function withWholeEnvelopes(
  fetchFn: typeof globalThis.fetch,
  readMaxBytes: number,
): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await fetchFn(input, init);
    const source = response.body;
    if (source === null) return response;
    const envelopes = wholeEnvelopes(streamChunks(source), readMaxBytes);
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await envelopes.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await envelopes.return(undefined);
      },
    });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    // Stops the download when the consumer stops early (cancel, or a decoder error).
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
