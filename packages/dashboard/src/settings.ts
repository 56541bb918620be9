/**
 * What the user sets to talk to one federation. No key material, and not the proxy: that comes
 * from the page's own configuration (page-config.ts), never from a link or the form.
 */
export interface DashboardSettings {
  /** OpenFL: aggregator_uuid, e.g. "aggregator_plan.yaml_4ebcd576". */
  readonly aggregatorUuid: string;
  /** OpenFL: federation_uuid, e.g. "plan.yaml_4ebcd576". */
  readonly federationUuid: string;
  /** OpenFL: collaborator_name: the CN of the certificate the proxy presents. */
  readonly collaboratorName: string;
}

export const SETTINGS_KEY = "openfl-connect.dashboard.settings";

export const EMPTY_SETTINGS: DashboardSettings = {
  aggregatorUuid: "",
  federationUuid: "",
  collaboratorName: "",
};

export const SETTING_FIELDS = [
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
    aggregatorUuid: settings.aggregatorUuid.trim(),
    federationUuid: settings.federationUuid.trim(),
    collaboratorName: settings.collaboratorName.trim(),
  };
}

/**
 * The settings given in the page's query string (`?aggregatorUuid=...&federationUuid=...&
 * collaboratorName=...`), e.g. by the demo's printed link. Only these three are read: never an
 * access token (URLs end up in history and logs) and never a proxy URL (a link must not be able
 * to send the token elsewhere); empty values are ignored.
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
    aggregatorUuid: "aggregator uuid",
    federationUuid: "federation uuid",
    collaboratorName: "collaborator name",
  };
  return SETTING_FIELDS.filter((f) => settings[f].trim() === "").map((f) => labels[f]);
}
