import assert from "node:assert/strict";
import { describe, it } from "node:test";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { selectBackend } from "./select-backend.js";

describe("selectBackend", () => {
  it("skips what is not registered or does not start, and returns the backend in use", async () => {
    tf.registerBackend("broken", () => {
      throw new Error("no context");
    });
    assert.equal(await selectBackend(["webgl", "broken", "cpu"]), "cpu");
    assert.equal(tf.getBackend(), "cpu");
  });

  it("says what it tried and what is registered when none starts", async () => {
    await assert.rejects(
      selectBackend(["webgl", "wasm"]),
      /no TF\.js backend started: tried webgl \(not registered\), wasm \(not registered\); registered: .*cpu/,
    );
  });
});
