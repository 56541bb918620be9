import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pairedRatios } from "./client-alone.js";
import { verdict } from "./verdict.js";

describe("pairedRatios", () => {
  const row = (kind: string, rep: number, seconds: number, cpuMs: number) => ({
    op: "alone-upload",
    mib: 16,
    kind,
    rep,
    seconds,
    cpuMs,
  });

  it("takes the median of the per-rep ratios, each client run against the raw run of its rep", () => {
    const rows = [
      row("client", 0, 2, 30),
      row("raw", 0, 1, 10),
      row("raw", 1, 1, 10),
      row("client", 1, 1, 10),
      row("client", 2, 4, 40),
      row("raw", 2, 1, 20),
    ];
    const p = pairedRatios(rows, "alone-upload", 16);
    assert.equal(p.reps, 3);
    assert.equal(p.throughput, 0.5); // 0.5, 1, 0.25
    assert.equal(p.cpu, 2); // 3, 1, 2
    assert.equal(p.clientSeconds, 2);
    assert.equal(p.rawCpuMs, 10);
  });

  it("pairs the client with the anchor it is asked about, not with the raw socket", () => {
    const rows = [
      row("client", 0, 2, 30),
      row("raw", 0, 1, 10),
      row("http2", 0, 4, 15),
      row("grpc-js", 0, 8, 60),
    ];
    const h2 = pairedRatios(rows, "alone-upload", 16, "http2");
    assert.equal(h2.throughput, 2);
    assert.equal(h2.cpu, 2);
    assert.equal(h2.rawSeconds, 4);
    assert.equal(pairedRatios(rows, "alone-upload", 16, "grpc-js").throughput, 4);
  });

  it("gives no figure when a run left no rows", () => {
    const p = pairedRatios([row("client", 0, 1, 1)], "alone-upload", 16);
    assert.equal(p.reps, 0);
    assert.equal(verdict(p.throughput >= 0.7, p.throughput), "no figure");
  });
});
