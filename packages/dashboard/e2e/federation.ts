import type { Page } from "@playwright/test";

/** What federation-harness.ts reports once ready. */
export interface Federation {
  readonly dashboardUrl: string;
  /** The same page on an origin Envoy's CORS does not allow, configured with the real proxy. */
  readonly foreignOriginDashboardUrl: string;
  /** The same page configured with a proxy that does not exist. */
  readonly unreachableProxyDashboardUrl: string;
  readonly proxyUrl: string;
  readonly resultsUrl: string;
  readonly aggregatorUuid: string;
  readonly federationUuid: string;
  readonly collaboratorName: string;
  /** A JWT for a user who acts as `collaboratorName` and may upload. */
  readonly accessToken: string;
  /** The same user without the upload claim. */
  readonly readOnlyAccessToken: string;
}

/** One TaskResults as the aggregator received it (harness GET /results). */
export interface ReceivedResults {
  readonly collaborator: string;
  readonly round: number;
  readonly taskName: string;
  readonly tensors: readonly {
    readonly name: string;
    readonly shape: readonly number[];
    readonly bytes: number;
    readonly sha256: string;
  }[];
}

/** The federation started by global-setup.ts: the reference aggregator, or OpenFL's server. */
export function federation(kind: "reference" | "openfl" = "reference"): Federation {
  const raw = process.env[kind === "openfl" ? "E2E_OPENFL_FEDERATION" : "E2E_FEDERATION"];
  if (!raw)
    throw new Error("E2E_FEDERATION is not set: run through playwright.config.ts (global setup)");
  return JSON.parse(raw) as Federation;
}

/** Opens the dashboard and fills in the settings form (overrides per field). */
export async function openDashboard(
  page: Page,
  overrides: Partial<Federation> = {},
  kind: "reference" | "openfl" = "reference",
): Promise<void> {
  const f = { ...federation(kind), ...overrides };
  await page.goto(f.dashboardUrl);
  await page.locator("#aggregatorUuid").fill(f.aggregatorUuid);
  await page.locator("#federationUuid").fill(f.federationUuid);
  await page.locator("#collaboratorName").fill(f.collaboratorName);
  await page.locator("#accessToken").fill(f.accessToken);
  await page.locator("#save-settings").click();
}
