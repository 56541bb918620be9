/**
 * The page's own configuration: which gRPC-web proxy it talks to. It comes from
 * `dashboard-config.js`, a classic script served next to index.html by whoever hosts the page
 * (same origin), never from a link or a form: a link that could set the proxy would send the
 * user's bearer token wherever it pointed. The host also sends a Content-Security-Policy whose
 * connect-src is this proxy alone (serve/page-hosting.ts writes both).
 */
export const PAGE_CONFIG_GLOBAL = "OPENFL_DASHBOARD_CONFIG";

export interface PageConfig {
  /** The proxy's origin, e.g. "https://dashboard.example.org:8443". */
  readonly proxyUrl: string;
}

/** The page's configuration is missing or unusable. The message names the file and field. */
export class PageConfigError extends Error {
  override name = "PageConfigError";
}

/** This page's configuration, as dashboard-config.js set it (throws PageConfigError). */
export function loadPageConfig(): PageConfig {
  return readPageConfig((globalThis as Record<string, unknown>)[PAGE_CONFIG_GLOBAL]);
}

/** Checks the value dashboard-config.js set; returns the proxy origin (scheme, host, port). */
export function readPageConfig(value: unknown): PageConfig {
  const where = `dashboard-config.js (${PAGE_CONFIG_GLOBAL})`;
  if (typeof value !== "object" || value === null) {
    throw new PageConfigError(
      `${where} is missing: the page does not know its proxy. Whoever hosts the page must serve it (see the dashboard's README).`,
    );
  }
  const proxyUrl = (value as { proxyUrl?: unknown }).proxyUrl;
  if (typeof proxyUrl !== "string" || proxyUrl.trim() === "") {
    throw new PageConfigError(
      `${where}: proxyUrl must be the proxy's URL, got ${JSON.stringify(proxyUrl)}.`,
    );
  }
  let url: URL;
  try {
    url = new URL(proxyUrl.trim());
  } catch {
    throw new PageConfigError(`${where}: proxyUrl is not a URL: ${JSON.stringify(proxyUrl)}.`);
  }
  if (
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    url.pathname !== "/" ||
    url.search ||
    url.hash ||
    url.username
  ) {
    throw new PageConfigError(
      `${where}: proxyUrl must be an http(s) origin such as https://proxy.example.org:8443, got ${JSON.stringify(proxyUrl)}.`,
    );
  }
  return { proxyUrl: url.origin };
}
