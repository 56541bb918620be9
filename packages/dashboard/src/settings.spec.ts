import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  EMPTY_SETTINGS,
  initialSettings,
  loadSettings,
  missingSettings,
  SETTINGS_KEY,
  saveSettings,
  settingsFromQuery,
} from "./settings.js";

function memoryStorage(initial: Record<string, string> = {}) {
  const items = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => {
      items.set(key, value);
    },
  };
}

describe("dashboard settings", () => {
  it("round-trips through storage, trimmed", () => {
    const storage = memoryStorage();
    saveSettings(storage, {
      aggregatorUuid: " aggregator_plan.yaml_1 ",
      federationUuid: "plan.yaml_1",
      collaboratorName: "dashboard",
    });
    assert.deepEqual(loadSettings(storage), {
      aggregatorUuid: "aggregator_plan.yaml_1",
      federationUuid: "plan.yaml_1",
      collaboratorName: "dashboard",
    });
  });

  it("reads nothing saved, malformed JSON or wrong types as empty fields", () => {
    assert.deepEqual(loadSettings(memoryStorage()), EMPTY_SETTINGS);
    assert.deepEqual(loadSettings(memoryStorage({ [SETTINGS_KEY]: "{not json" })), EMPTY_SETTINGS);
    assert.deepEqual(
      loadSettings(
        memoryStorage({ [SETTINGS_KEY]: '{"collaboratorName":42,"federationUuid":"f"}' }),
      ),
      { ...EMPTY_SETTINGS, federationUuid: "f" },
    );
  });

  it("names the missing settings in words", () => {
    assert.deepEqual(missingSettings({ ...EMPTY_SETTINGS, federationUuid: "f" }), [
      "aggregator uuid",
      "collaborator name",
    ]);
  });

  it("reads the settings fields from the query string, ignoring empty values and other keys", () => {
    assert.deepEqual(
      settingsFromQuery(
        "?federationUuid=plan.yaml_1&collaboratorName=&accessToken=secret&proxyUrl=https%3A%2F%2Fevil.example",
      ),
      { federationUuid: "plan.yaml_1" },
    );
    assert.deepEqual(settingsFromQuery(""), {});
  });

  it("never takes a proxy from a link or from storage (a link must not redirect the token)", () => {
    const storage = memoryStorage({ [SETTINGS_KEY]: '{"proxyUrl":"https://evil.example"}' });
    const settings = initialSettings(storage, "?proxyUrl=https%3A%2F%2Fevil.example");
    assert.equal(JSON.stringify(settings).includes("evil"), false);
  });

  it("lets query parameters override stored settings field by field", () => {
    const storage = memoryStorage();
    saveSettings(storage, {
      aggregatorUuid: "aggregator_old",
      federationUuid: "old",
      collaboratorName: "someone",
    });
    assert.deepEqual(
      initialSettings(storage, "?proxyUrl=http://new:2&collaboratorName=dashboard"),
      {
        aggregatorUuid: "aggregator_old",
        federationUuid: "old",
        collaboratorName: "dashboard",
      },
    );
  });
});
