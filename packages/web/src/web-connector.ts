import type { Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import type { AggregatorConnection, AggregatorConnector } from "@openfl-connect/core/internal";
import { classifyBrowserFailure } from "./browser-failure.js";
import { withConnectionSignal } from "./connection-signal.js";
import { dataStreamUploadBodies } from "./datastream-upload-body.js";
import { withSingleMessageClientStreams } from "./single-message-streams.js";
import { withWholeEnvelopes } from "./whole-envelope-fetch.js";

/** connect-web's default read limit, applied by its decoder after the messages are assembled. */
const READ_MAX_BYTES = 0xffffffff;

export interface WebConnectorSettings {
  /** The gRPC-web proxy's URL, e.g. "https://openfl-proxy.example.org" (no trailing path needed). */
  readonly proxyUrl: string;
  /** fetch implementation. Default globalThis.fetch. See `createXhrFetch` for upload progress. */
  readonly fetch?: typeof globalThis.fetch;
  /** connect interceptors, e.g. to add an `authorization` header the proxy checks. Default none. */
  readonly interceptors?: Interceptor[];
}

/**
 * Opens gRPC-web "channels" through a proxy (Envoy) for the core client.
 * One job: build transports. The proxy, not the page, holds the collaborator's client
 * certificate and speaks gRPC over mTLS to the aggregator.
 *
 * Uploads travel as one DataStream in one request (`uploadChunkBytes` is Infinity), so a
 * TaskResults must fit the proxy's and the aggregator's message limit (OpenFL: 1 GiB) and
 * the browser's memory (the tensors, one copy of the TaskResults, and what fetch holds of the
 * body while sending).
 */
export class WebConnector implements AggregatorConnector {
  readonly target: string;
  readonly uploadChunkBytes = Number.POSITIVE_INFINITY;
  readonly classifyPlatformFailure = classifyBrowserFailure;
  readonly #settings: WebConnectorSettings;

  constructor(settings: WebConnectorSettings) {
    this.#settings = settings;
    this.target = settings.proxyUrl;
  }

  open(): AggregatorConnection {
    const s = this.#settings;
    const closed = new AbortController();
    const uploads = dataStreamUploadBodies(
      withWholeEnvelopes(
        // Bound when the call is made, so a test may replace globalThis.fetch afterwards.
        s.fetch ?? ((input, init) => globalThis.fetch(input, init)),
        READ_MAX_BYTES,
      ),
    );
    const transport = createGrpcWebTransport({
      baseUrl: s.proxyUrl,
      useBinaryFormat: true,
      fetch: uploads.fetch,
      // Innermost: the application's interceptors see the upload's real message.
      interceptors: [...(s.interceptors ?? []), uploads.interceptor],
    });
    return {
      transport: withConnectionSignal(withSingleMessageClientStreams(transport), closed.signal),
      close: async () => {
        closed.abort(new Error("connection closed"));
      },
    };
  }
}
