// Serves the built dashboard to a local browser: for the demo (--with-dashboard) and the
// browser tests, as a production host would: dist/, plus dashboard-config.js naming the proxy and
// a Content-Security-Policy that lets the page connect to that proxy only (page-hosting.ts).
import { readFile } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { dashboardConfigScript, dashboardContentSecurityPolicy } from "./page-hosting.js";

/** The dashboard as `vite build` writes it. */
export const DASHBOARD_DIST = fileURLToPath(new URL("../dist", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
};

export interface DashboardSite {
  /** "http://127.0.0.1:<port>": the page's origin (the proxy's CORS origin). */
  readonly origin: string;
  /**
   * Names the page's proxy (dashboard-config.js and the CSP). Until then every answer carries
   * a CSP that allows no connection, and dashboard-config.js is 503.
   */
  configure(proxyUrl: string): void;
  close(): Promise<void>;
}

/** Serves the files under `dir` (nothing outside it) on 127.0.0.1, on a free port. */
export async function serveStaticSite(dir: string = DASHBOARD_DIST): Promise<DashboardSite> {
  const root = normalize(dir);
  let hosting: { script: string; csp: string } | undefined;
  const server = createServer((req, res) => {
    res.setHeader("content-security-policy", hosting?.csp ?? "default-src 'none'");
    void respond(root, req.url ?? "/", res, hosting?.script);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    configure: (proxyUrl) => {
      hosting = {
        script: dashboardConfigScript(proxyUrl),
        csp: dashboardContentSecurityPolicy(proxyUrl),
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function respond(
  root: string,
  url: string,
  res: ServerResponse,
  configScript: string | undefined,
): Promise<void> {
  try {
    const path = decodeURIComponent(new URL(url, "http://x").pathname);
    if (path === "/dashboard-config.js") {
      if (configScript === undefined) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { "content-type": CONTENT_TYPES[".js"], "cache-control": "no-store" });
      res.end(configScript);
      return;
    }
    const file = normalize(join(root, path === "/" ? "index.html" : path));
    if (!file.startsWith(`${root}${sep}`)) {
      res.writeHead(403).end();
      return;
    }
    const body = await readFile(file);
    res.writeHead(200, {
      "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-store",
    });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
}
