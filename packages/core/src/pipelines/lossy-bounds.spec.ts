import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { float32Step, kmeansBoundViolation } from "./lossy-bounds.js";

describe("float32Step", () => {
  it("is the distance to the next float32 away from zero", () => {
    assert.equal(float32Step(1), 2 ** -23);
    assert.equal(float32Step(-1), 2 ** -23);
    assert.equal(float32Step(1.5), 2 ** -23);
    assert.equal(float32Step(2), 2 ** -22);
    assert.equal(float32Step(0), 2 ** -149);
    assert.equal(float32Step(1000), 2 ** -14);
  });
});

describe("kmeansBoundViolation", () => {
  const source = [0, 1, 10, 12];
  it("accepts nearest levels that are their values' means", () => {
    assert.equal(kmeansBoundViolation(source, [0.5, 0.5, 11, 11], [0.5, 11]), undefined);
    assert.equal(kmeansBoundViolation([], [], []), undefined);
    // within one float32 step of the mean
    const mean = 0.1;
    assert.equal(kmeansBoundViolation([mean], [Math.fround(mean)], [Math.fround(mean)]), undefined);
  });

  it("names the first break", () => {
    assert.equal(kmeansBoundViolation(source, [0.5], [0.5]), "4 source values, 1 decoded");
    assert.equal(
      kmeansBoundViolation(source, [0.5, 0.5, 11, 12], [0.5, 11]),
      "element 3 decodes to 12, which is not a level",
    );
    assert.equal(
      kmeansBoundViolation(source, [0.5, 11, 11, 11], [0.5, 11]),
      "element 1 (1) decodes to 11, level 0.5 is nearer",
    );
    assert.equal(
      kmeansBoundViolation(source, [0, 0, 11, 11], [0, 11]),
      "level 0 is not the float32 mean 0.5 of the 2 values decoded to it",
    );
    const off = Math.fround(1.5000002); // two float32 steps above 1.5
    assert.equal(
      kmeansBoundViolation([1, 2], [off, off], [off]),
      `level ${off} is not the float32 mean 1.5 of the 2 values decoded to it`,
    );
    const near = Math.fround(1.5000001); // one step
    assert.equal(kmeansBoundViolation([1, 2], [near, near], [near]), undefined);
  });

  it("accepts a value halfway between two levels decoded to either", () => {
    const source = [0, 2, 1, 2, 4, 3];
    assert.equal(kmeansBoundViolation(source, [1, 1, 1, 3, 3, 3], [1, 3]), undefined);
  });
});
