import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TaskSettingsError } from "./errors.js";
import { KERAS_TASK_DEFAULTS, openflDataSize, parsePlanTasks } from "./task-settings.js";

const refuses = (section: Record<string, unknown>, setting: string, text: RegExp) =>
  assert.throws(
    () => parsePlanTasks(section),
    (e: unknown) => e instanceof TaskSettingsError && e.setting === setting && text.test(e.message),
  );

describe("a plan's tasks section, as KerasTaskRunner reads it", () => {
  it("reads OpenFL's tasks_keras.yaml defaults", () => {
    assert.deepEqual(parsePlanTasks(KERAS_TASK_DEFAULTS), {
      aggregated_model_validation: {
        kind: "validate",
        apply: "global",
        batchSize: 32,
        metrics: ["accuracy"],
      },
      locally_tuned_model_validation: {
        kind: "validate",
        apply: "local",
        batchSize: 32,
        metrics: ["accuracy"],
      },
      train: { kind: "train", epochs: 1, batchSize: 32, metrics: ["loss"] },
    });
  });

  it("defaults batch_size and epochs to 1 (train_task's signature) and skips the settings entry", () => {
    assert.deepEqual(
      parsePlanTasks({
        settings: { x: 1 },
        train: { function: "train_task", kwargs: { metrics: ["loss"] } },
      }),
      { train: { kind: "train", epochs: 1, batchSize: 1, metrics: ["loss"] } },
    );
  });

  it("names the setting it refuses, with what it got", () => {
    refuses(
      { train: { function: "train_task", kwargs: { metrics: ["loss"], epochs: 0 } } },
      "tasks.train.kwargs.epochs",
      /whole number >= 1, got 0/,
    );
    refuses(
      { train: { function: "train_task", kwargs: { metrics: ["loss"], batch_size: 2.5 } } },
      "tasks.train.kwargs.batch_size",
      /got 2\.5/,
    );
    refuses(
      { train: { function: "train_task", kwargs: {} } },
      "tasks.train.kwargs.metrics",
      /non-empty list/,
    );
    refuses(
      { my_valid: { function: "validate_task", kwargs: { metrics: ["accuracy"], apply: "both" } } },
      "tasks.my_valid.kwargs.apply",
      /"global" or "local", got "both"/,
    );
    refuses(
      { train: { function: "fit", kwargs: { metrics: ["loss"] } } },
      "tasks.train.function",
      /train_task and validate_task, got "fit"/,
    );
    refuses(
      { fit: { function: "train_task", kwargs: { metrics: ["loss"] } } },
      "tasks.fit",
      /must contain 'train' or 'valid'/,
    );
  });

  it("counts data_size by the task's name, as OpenFL's Collaborator does", () => {
    assert.equal(openflDataSize("train", 100, 30), 100);
    assert.equal(openflDataSize("aggregated_model_validation", 100, 30), 30);
    assert.equal(openflDataSize("train_and_validate", 100, 30), 30);
    assert.equal(openflDataSize("analyse", 100, 30), -1);
  });
});
