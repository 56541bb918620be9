import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, describe, it } from "node:test";
import { chooseProxy, findOnPath } from "./proxy-choice.js";

describe("browser tests' proxy choice", () => {
  const bin = mkdtempSync(join(tmpdir(), "proxy-choice-"));
  writeFileSync(join(bin, "envoy"), "#!/bin/sh\n");
  chmodSync(join(bin, "envoy"), 0o755);
  after(() => rmSync(bin, { recursive: true, force: true }));

  it("uses Envoy when envoy is on PATH, grpcwebproxy otherwise", () => {
    assert.equal(chooseProxy({ PATH: `/nonexistent${delimiter}${bin}` }), "envoy");
    assert.equal(chooseProxy({ PATH: "/nonexistent" }), "grpcwebproxy");
    assert.equal(findOnPath("envoy", bin), join(bin, "envoy"));
  });

  it("follows E2E_PROXY when set, and rejects other values", () => {
    assert.equal(chooseProxy({ E2E_PROXY: "envoy", PATH: "" }), "envoy");
    assert.equal(chooseProxy({ E2E_PROXY: "grpcwebproxy", PATH: bin }), "grpcwebproxy");
    assert.throws(() => chooseProxy({ E2E_PROXY: "nginx" }), /E2E_PROXY must be/);
  });
});
