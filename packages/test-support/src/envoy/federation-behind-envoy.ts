// Test-only: the set-up of the Envoy specs. A reference federation, optionally the byte-counting
// relay between Envoy and it, and Envoy with the generator's config for a test input (plain
// HTTP on loopback unless asked for TLS), each collaborator its own identity (claim = its name).
import type { ReferenceAggregatorOptions } from "@openfl-connect/reference-aggregator";
import { type FaultProxy, startFaultProxy } from "../fault-proxy.js";
import { startTestFederation, type TestFederation } from "../reference-federation.js";
import { type EnvoyOptions, type RunningEnvoy, startEnvoy } from "./start-envoy.js";

export interface FederationBehindEnvoyOptions
  extends Partial<Pick<EnvoyOptions, "limits" | "interopClaim" | "listener" | "dashboardOrigin">> {
  readonly collaborators: readonly string[];
  readonly aggregator?: Partial<ReferenceAggregatorOptions>;
  /** Puts the fault proxy between Envoy and the aggregator (bytes upstream counted). */
  readonly relay?: boolean;
}

export interface FederationBehindEnvoy {
  readonly federation: TestFederation;
  readonly envoy: RunningEnvoy;
  /** The relay, when asked for. */
  readonly relay: FaultProxy | undefined;
  /** Stops Envoy, the relay and the federation. */
  close(): Promise<void>;
}

export async function startFederationBehindEnvoy(
  options: FederationBehindEnvoyOptions,
): Promise<FederationBehindEnvoy> {
  const federation = await startTestFederation({
    collaborators: options.collaborators,
    ...(options.aggregator ? { aggregator: options.aggregator } : {}),
  });
  let relay: FaultProxy | undefined;
  try {
    relay = options.relay ? await startFaultProxy(federation.port) : undefined;
    const envoy = await startEnvoy({
      workDir: federation.dir,
      pki: federation.pki,
      collaborators: options.collaborators.map((name) => ({ name, claim: name })),
      aggregatorPort: relay?.port ?? federation.port,
      dashboardOrigin: options.dashboardOrigin ?? "https://dashboard.test",
      listener: options.listener ?? "plaintext",
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.interopClaim ? { interopClaim: options.interopClaim } : {}),
    });
    return {
      federation,
      envoy,
      relay,
      close: async () => {
        await envoy.stop();
        await relay?.close();
        await federation.close();
      },
    };
  } catch (error) {
    await relay?.close();
    await federation.close();
    throw error;
  }
}
