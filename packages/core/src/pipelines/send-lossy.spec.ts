import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { shouldSendLossy } from "./send-lossy.js";

describe("shouldSendLossy (OpenFL: Collaborator.nparray_to_named_tensor)", () => {
  it("sends a trained tensor as a delta only under use_delta_updates with that round's model", () => {
    const base = { tags: ["trained"], useDeltaUpdates: true, holdsRoundModel: true };
    assert.equal(shouldSendLossy(base), true);
    assert.equal(shouldSendLossy({ ...base, useDeltaUpdates: false }), false);
    assert.equal(shouldSendLossy({ ...base, holdsRoundModel: false }), false);
    assert.equal(
      shouldSendLossy({ ...base, useDeltaUpdates: false, holdsRoundModel: false }),
      false,
    );
  });

  it("looks for the trained tag among others, and sends every other tensor whole", () => {
    const on = { useDeltaUpdates: true, holdsRoundModel: true };
    assert.equal(shouldSendLossy({ ...on, tags: ["metric", "trained"] }), true);
    assert.equal(shouldSendLossy({ ...on, tags: ["metric"] }), false);
    assert.equal(shouldSendLossy({ ...on, tags: [] }), false);
    assert.equal(shouldSendLossy({ ...on, tags: ["trained_model"] }), false);
  });
});
