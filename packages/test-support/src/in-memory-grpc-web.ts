// Test fixture: a gRPC-web server in memory, reached through a `fetch` function, so that the
// real connect-web transport can be exercised without a network or a proxy.
import { type ConnectRouter, createConnectRouter } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";

/** One request as it reached the in-memory server. */
export interface RecordedRequest {
  readonly path: string;
  readonly contentType: string | null;
  readonly body: Uint8Array;
}

export interface InMemoryGrpcWeb {
  /** A fetch that answers from the router (gRPC-web only), recording every request. */
  readonly fetch: typeof globalThis.fetch;
  readonly requests: RecordedRequest[];
}

export function inMemoryGrpcWeb(routes: (router: ConnectRouter) => void): InMemoryGrpcWeb {
  const router = createConnectRouter({ connect: false, grpc: false, grpcWeb: true });
  routes(router);
  const requests: RecordedRequest[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    const body = new Uint8Array(await request.clone().arrayBuffer());
    requests.push({ path, contentType: request.headers.get("content-type"), body });
    const handler = router.handlers.find((h) => h.requestPath === path);
    if (handler === undefined) return new Response(null, { status: 404 });
    return createFetchHandler(handler)(request);
  };
  return { fetch, requests };
}

/** A fetch that fails like a browser does when the network or CORS check fails. */
export const failingFetch: typeof globalThis.fetch = async () => {
  throw new TypeError("Failed to fetch");
};
