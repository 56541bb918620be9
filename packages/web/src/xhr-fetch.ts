/** Bytes of a request body sent so far. */
export interface UploadProgress {
  readonly loaded: number;
  /** The body's length; 0 when the browser does not know it. */
  readonly total: number;
}

export interface XhrFetchOptions {
  /** Called as the request body leaves the browser (XMLHttpRequest upload progress events). */
  readonly onUploadProgress?: (progress: UploadProgress) => void;
}

/**
 * A `fetch` built on XMLHttpRequest, for WebConnector's `fetch` option, because fetch()
 * reports no upload progress. It buffers the whole response (fine for gRPC-web unary
 * replies). A network or CORS failure rejects with a TypeError, as fetch() does, so
 * failures are classified the same way. Browser only (needs XMLHttpRequest).
 */
export function createXhrFetch(options: XhrFetchOptions = {}): typeof globalThis.fetch {
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const signal = init?.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const xhr = new XMLHttpRequest();
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      xhr.open(init?.method ?? "GET", url);
      xhr.responseType = "arraybuffer";
      new Headers(init?.headers).forEach((value, name) => {
        xhr.setRequestHeader(name, value);
      });
      const onAbort = () => xhr.abort();
      signal?.addEventListener("abort", onAbort, { once: true });
      const settle = () => signal?.removeEventListener("abort", onAbort);
      const onUploadProgress = options.onUploadProgress;
      if (onUploadProgress) {
        xhr.upload.onprogress = (e) => onUploadProgress({ loaded: e.loaded, total: e.total });
      }
      xhr.onload = () => {
        settle();
        resolve(
          new Response(xhr.response as ArrayBuffer, {
            status: xhr.status,
            statusText: xhr.statusText,
            headers: parseResponseHeaders(xhr.getAllResponseHeaders()),
          }),
        );
      };
      xhr.onerror = () => {
        settle();
        reject(new TypeError(`Failed to fetch ${url} (network error or CORS refusal)`));
      };
      xhr.ontimeout = xhr.onerror;
      xhr.onabort = () => {
        settle();
        reject(signal?.reason ?? new DOMException("The request was aborted", "AbortError"));
      };
      xhr.send((init?.body ?? null) as XMLHttpRequestBodyInit | null);
    });
}

/** Parses XMLHttpRequest.getAllResponseHeaders() ("name: value\r\n" lines). */
export function parseResponseHeaders(raw: string): Headers {
  const headers = new Headers();
  for (const line of raw.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return headers;
}
