import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { accuracyChartSvg, RoundAccuracies } from "./accuracy-chart.js";

describe("RoundAccuracies", () => {
  it("keeps the accuracy of both validation tasks per round, in round order", () => {
    const r = new RoundAccuracies();
    r.record(1, "aggregated_model_validation", { accuracy: 0.6 });
    r.record(0, "locally_tuned_model_validation", { accuracy: 0.5 });
    r.record(0, "aggregated_model_validation", { accuracy: 0.3 });
    r.record(0, "train", { loss: 1.2 });
    r.record(1, "locally_tuned_model_validation", {});
    assert.deepEqual(r.list(), [
      { round: 0, local: 0.5, aggregated: 0.3 },
      { round: 1, aggregated: 0.6 },
    ]);
  });
});

describe("RoundAccuracies.fromJson", () => {
  it("restores what list() gave, so a reload keeps the chart", () => {
    const r = new RoundAccuracies();
    r.record(0, "aggregated_model_validation", { accuracy: 0.3 });
    r.record(1, "locally_tuned_model_validation", { accuracy: 0.7 });
    const back = RoundAccuracies.fromJson(JSON.stringify(r.list()));
    assert.deepEqual(back.list(), r.list());
    back.record(1, "aggregated_model_validation", { accuracy: 0.5 });
    assert.deepEqual(back.list()[1], { round: 1, local: 0.7, aggregated: 0.5 });
  });

  it("starts empty from nothing or garbage, and leaves out entries out of range", () => {
    for (const text of [null, "", "{", "{}", '"x"']) {
      assert.deepEqual(RoundAccuracies.fromJson(text).list(), [], String(text));
    }
    const r = RoundAccuracies.fromJson(
      '[{"round":-1,"local":0.5},{"round":2,"local":7,"aggregated":0.25},null,{"round":1.5}]',
    );
    assert.deepEqual(r.list(), [{ round: 2, aggregated: 0.25 }]);
  });
});

describe("accuracyChartSvg", () => {
  it("draws one line per series, higher accuracy higher up, with round labels", () => {
    const svg = accuracyChartSvg([
      { round: 0, aggregated: 0.25, local: 0.5 },
      { round: 1, aggregated: 1, local: 0.75 },
    ]);
    // Plot area: x 48..544, y 16 (100%) .. 220 (0%).
    assert.match(
      svg,
      /<polyline class="series aggregated" data-series="aggregated" points="48,169 544,16"\/>/,
    );
    assert.match(
      svg,
      /<polyline class="series local" data-series="local" points="48,118 544,67"\/>/,
    );
    assert.match(svg, />100%</);
    assert.match(svg, /text-anchor="middle">1</);
  });

  it("draws axes but no line without data, and skips missing points", () => {
    assert.doesNotMatch(accuracyChartSvg([]), /polyline/);
    const svg = accuracyChartSvg([{ round: 3, aggregated: 0.5 }]);
    assert.match(svg, /data-series="aggregated" points="296,118"/);
    assert.doesNotMatch(svg, /data-series="local"/);
  });
});
