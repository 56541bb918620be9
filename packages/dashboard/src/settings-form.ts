// The settings form both pages show: one input per setting, its id the setting's name.
import { type DashboardSettings, SETTING_FIELDS, trimSettings } from "./settings.js";

/** The page's input of a given id (page-elements.ts's `input`). */
export type SettingInput = (id: string) => { value: string };

/** The form's settings, trimmed. */
export function readSettingsForm(input: SettingInput): DashboardSettings {
  const values = Object.fromEntries(SETTING_FIELDS.map((field) => [field, input(field).value]));
  return trimSettings(values as unknown as DashboardSettings);
}

/** Puts `settings` into the form. */
export function fillSettingsForm(input: SettingInput, settings: DashboardSettings): void {
  for (const field of SETTING_FIELDS) input(field).value = settings[field];
}
