// Which gRPC-web proxy the browser tests put between the page and the aggregator. Node built-ins
// only, so playwright.config.ts can import it too.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * "envoy": deploy/envoy/envoy.yaml, adapted by envoy-config.ts (TLS listener, jwt_authn with a
 * test key). "grpcwebproxy": scripts/start-grpcwebproxy.sh (plain HTTP, no user auth).
 */
export type ProxyKind = "envoy" | "grpcwebproxy";

/** E2E_PROXY=envoy|grpcwebproxy decides; unset: Envoy when `envoy` is on PATH, else grpcwebproxy. */
export function chooseProxy(env: NodeJS.ProcessEnv = process.env): ProxyKind {
  const wanted = env.E2E_PROXY;
  if (wanted === "envoy" || wanted === "grpcwebproxy") return wanted;
  if (wanted !== undefined && wanted !== "") {
    throw new Error(`E2E_PROXY must be "envoy" or "grpcwebproxy", got "${wanted}"`);
  }
  return findOnPath("envoy", env.PATH ?? "") === undefined ? "grpcwebproxy" : "envoy";
}

/** The first executable called `name` in `path` (a PATH value), if any. */
export function findOnPath(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
