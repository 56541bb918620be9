/** What the page needs to talk to one federation through one proxy. No key material. */
export interface DashboardSettings {
  /** The gRPC-web proxy (Envoy), e.g. "https://dashboard.example.org:8443". */
  readonly proxyUrl: string;
  /** OpenFL: aggregator_uuid, e.g. "aggregator_plan.yaml_4ebcd576". */
  readonly aggregatorUuid: string;
  /** OpenFL: federation_uuid, e.g. "plan.yaml_4ebcd576". */
  readonly federationUuid: string;
  /** OpenFL: collaborator_name: the CN of the certificate the proxy presents. */
  readonly collaboratorName: string;
}

export const SETTINGS_KEY = "openfl-connect.dashboard.settings";

export const EMPTY_SETTINGS: DashboardSettings = {
  proxyUrl: "",
  aggregatorUuid: "",
  federationUuid: "",
  collaboratorName: "",
};

export const SETTING_FIELDS = [
  "proxyUrl",
  "aggregatorUuid",
  "federationUuid",
  "collaboratorName",
] as const satisfies readonly (keyof DashboardSettings)[];

/** Reads saved settings; anything missing or malformed reads as empty. */
export function loadSettings(storage: Pick<Storage, "getItem">): DashboardSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(storage.getItem(SETTINGS_KEY) ?? "{}");
  } catch {
    return EMPTY_SETTINGS;
  }
  const record = typeof parsed === "object" && parsed !== null ? parsed : {};
  const read = (field: keyof DashboardSettings) => {
    const value = (record as Record<string, unknown>)[field];
    return typeof value === "string" ? value : "";
  };
  return {
    proxyUrl: read("proxyUrl"),
    aggregatorUuid: read("aggregatorUuid"),
    federationUuid: read("federationUuid"),
    collaboratorName: read("collaboratorName"),
  };
}

export function saveSettings(storage: Pick<Storage, "setItem">, settings: DashboardSettings): void {
  storage.setItem(SETTINGS_KEY, JSON.stringify(trimSettings(settings)));
}

export function trimSettings(settings: DashboardSettings): DashboardSettings {
  return {
    proxyUrl: settings.proxyUrl.trim(),
    aggregatorUuid: settings.aggregatorUuid.trim(),
    federationUuid: settings.federationUuid.trim(),
    collaboratorName: settings.collaboratorName.trim(),
  };
}

/**
 * The settings given in the page's query string (`?proxyUrl=...&aggregatorUuid=...&
 * federationUuid=...&collaboratorName=...`), e.g. by the demo's printed link. Only the four
 * settings fields are read (never an access token: URLs end up in history and logs); empty
 * values are ignored.
 */
export function settingsFromQuery(search: string): Partial<DashboardSettings> {
  const params = new URLSearchParams(search);
  const found: Partial<Record<keyof DashboardSettings, string>> = {};
  for (const field of SETTING_FIELDS) {
    const value = params.get(field)?.trim();
    if (value) found[field] = value;
  }
  return found;
}

/** Saved settings, each overridden by the same field in the query string when it is there. */
export function initialSettings(
  storage: Pick<Storage, "getItem">,
  search: string,
): DashboardSettings {
  return { ...loadSettings(storage), ...settingsFromQuery(search) };
}

/** Names the settings a call cannot go without, in words for the page. */
export function missingSettings(settings: DashboardSettings): string[] {
  const labels: Record<keyof DashboardSettings, string> = {
    proxyUrl: "proxy URL",
    aggregatorUuid: "aggregator uuid",
    federationUuid: "federation uuid",
    collaboratorName: "collaborator name",
  };
  return SETTING_FIELDS.filter((f) => settings[f].trim() === "").map((f) => labels[f]);
}
