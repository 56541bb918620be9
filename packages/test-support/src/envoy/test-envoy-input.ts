// Test-only: the generator input (packages/envoy-config) for an Envoy in front of a test
// aggregator on 127.0.0.1. Issuer, audience and claim names are the shipped ones
// (deploy/envoy/envoy-input.yaml); what differs is what differs between deployments: addresses,
// ports, the test PKI's files, the page's origin, and a local JWKS holding a key made at test
// time instead of the provider's remote JWKS.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import {
  checkEnvoyInput,
  type EdgeLimits,
  type EnvoyInput,
  parseEnvoyInput,
} from "@openfl-connect/envoy-config";
import type { JsonWebKeySet } from "./test-jwt.js";

/** deploy/envoy/envoy-input.yaml and the config written from it, in this checkout. */
export const DEPLOYED_ENVOY_INPUT = resolve(
  import.meta.dirname,
  "../../../../deploy/envoy/envoy-input.yaml",
);
export const DEPLOYED_ENVOY_CONFIG = resolve(
  import.meta.dirname,
  "../../../../deploy/envoy/envoy.yaml",
);

export interface TestEnvoyInputOptions {
  /** Where Envoy's admin interface listens: a Unix socket (owner-only), as deployed. */
  readonly adminSocket: string;
  readonly listenerPort: number;
  /** The readiness listener's port (GET /ready), on 127.0.0.1. */
  readonly healthPort: number;
  /** The listener's server certificate and key, or "plaintext" for plain HTTP on loopback. */
  readonly listenerTls: { readonly cert: string; readonly key: string } | "plaintext";
  readonly dashboardOrigin: string;
  readonly aggregator: { readonly port: number; readonly caCert: string };
  /** Identities Envoy may present: name = certificate CN, claim = the token value selecting it. */
  readonly collaborators: readonly {
    readonly name: string;
    readonly claim: string;
    readonly cert: string;
    readonly key: string;
  }[];
  readonly jwks: JsonWebKeySet;
  /** Sets tokens.interop_claim (InteropRelay routed for tokens with it). Default: not routed. */
  readonly interopClaim?: string;
  /** The shipped input's limits, these replaced (attack tests: short timeouts). */
  readonly limits?: Partial<EdgeLimits>;
}

export async function deployedEnvoyInput(): Promise<EnvoyInput> {
  return parseEnvoyInput(await readFile(DEPLOYED_ENVOY_INPUT, "utf8"), DEPLOYED_ENVOY_INPUT);
}

export function testEnvoyInput(shipped: EnvoyInput, o: TestEnvoyInputOptions): EnvoyInput {
  return checkEnvoyInput(
    {
      admin: { socket: o.adminSocket },
      listener: {
        address: "127.0.0.1",
        port: o.listenerPort,
        domains: [`127.0.0.1:${o.listenerPort}`, `localhost:${o.listenerPort}`],
        tls:
          o.listenerTls === "plaintext"
            ? "none"
            : { certificate: o.listenerTls.cert, private_key: o.listenerTls.key },
      },
      dashboard_origin: o.dashboardOrigin,
      aggregator: {
        // An IP, not "localhost": Envoy's DNS lookup prefers IPv6 and the aggregator binds IPv4.
        address: "127.0.0.1",
        port: o.aggregator.port,
        server_name: "localhost",
        ca_certificate: o.aggregator.caCert,
      },
      tokens: {
        ...shipped.tokens,
        jwks: { local: JSON.stringify(o.jwks) },
        ...(o.interopClaim === undefined ? {} : { interop_claim: o.interopClaim }),
      },
      health: { address: "127.0.0.1", port: o.healthPort },
      collaborators: o.collaborators.map((c) => ({
        name: c.name,
        claim: c.claim,
        certificate: c.cert,
        private_key: c.key,
      })),
      limits: { ...shipped.limits, ...o.limits },
    },
    "test Envoy input",
  );
}
