// Serves the built dashboard to a local browser: for the demo (--with-dashboard) and the
// browser tests. Production serves dist/ from any static host behind the same origin rules.
import { readFile } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The dashboard as `vite build` writes it. */
export const DASHBOARD_DIST = fileURLToPath(new URL("../dist", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
};

/** Serves the files under `dir` (nothing outside it) on 127.0.0.1, on a free port. */
export async function serveStaticSite(dir: string = DASHBOARD_DIST): Promise<Server> {
  const root = normalize(dir);
  const server = createServer((req, res) => void respond(root, req.url ?? "/", res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return server;
}

async function respond(root: string, url: string, res: ServerResponse): Promise<void> {
  try {
    const path = decodeURIComponent(new URL(url, "http://x").pathname);
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
