import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SETTING_FIELDS } from "./settings.js";
import { fillSettingsForm, readSettingsForm } from "./settings-form.js";

/** A form of plain objects standing in for the page's inputs. */
function form(): { input: (id: string) => { value: string }; ids: () => string[] } {
  const inputs = new Map<string, { value: string }>();
  return {
    input: (id) => {
      let found = inputs.get(id);
      if (found === undefined) {
        found = { value: "" };
        inputs.set(id, found);
      }
      return found;
    },
    ids: () => [...inputs.keys()],
  };
}

describe("the settings form", () => {
  it("reads each setting from the input of its name, trimmed", () => {
    const f = form();
    f.input("aggregatorUuid").value = " aggregator_plan.yaml_1 ";
    f.input("federationUuid").value = "plan.yaml_1\n";
    f.input("collaboratorName").value = "\tcol1";
    assert.deepEqual(readSettingsForm(f.input), {
      aggregatorUuid: "aggregator_plan.yaml_1",
      federationUuid: "plan.yaml_1",
      collaboratorName: "col1",
    });
  });

  it("fills the input of each setting, and reads back what it filled", () => {
    const f = form();
    const settings = {
      aggregatorUuid: "aggregator_plan.yaml_2",
      federationUuid: "plan.yaml_2",
      collaboratorName: "col2",
    };
    fillSettingsForm(f.input, settings);
    assert.deepEqual(f.ids().sort(), [...SETTING_FIELDS].sort());
    assert.equal(f.input("collaboratorName").value, "col2");
    assert.deepEqual(readSettingsForm(f.input), settings);
  });
});
