import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CsvDatasetError, formatCsvDataset, parseCsvDataset, splitShard } from "./csv-dataset.js";
import { createSoftmaxTasks, initialModel, TRAINING, trainSgd } from "./softmax-regression.js";
import { collaboratorShard } from "./synthetic-blobs.js";

const shape = { features: 2, classes: 3 };

describe("parseCsvDataset", () => {
  it("reads rows of features then label, skipping a header and blank lines", () => {
    const data = parseCsvDataset("x1,x2,label\r\n1.5, -2, 0\n\n3,4,2\n", shape);
    assert.equal(data.samples, 2);
    assert.equal(data.featureCount, 2);
    assert.deepEqual([...data.features], [1.5, -2, 3, 4]);
    assert.deepEqual([...data.labels], [0, 2]);
  });

  it("names the line and the problem, never the values", () => {
    const cases: [string, RegExp][] = [
      ["1,2,0\n1,2\n", /CSV line 2: expected 3 columns \(2 features, then the label\), got 2/],
      ["1,2,0\n1,secret,0\n", /CSV line 2: column 2 is not a finite number/],
      ["1,2,3\n", /CSV line 1: the label \(column 3\) must be a whole number 0\.\.2/],
      ["1,2,0.5\n", /CSV line 1: the label/],
      ["a,b,c\n\n", /CSV file: holds no data rows/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseCsvDataset(text, shape),
        (e: unknown) => e instanceof CsvDatasetError && message.test(e.message),
        text,
      );
    }
    assert.throws(
      () => parseCsvDataset("1,2,0\n1,secret,0\n", shape),
      (e: unknown) => e instanceof Error && !e.message.includes("secret"),
    );
  });
});

describe("formatCsvDataset", () => {
  it("writes what parseCsvDataset reads back exactly (float32 values, header, all datasets)", () => {
    const { train, validation } = collaboratorShard("round-trip");
    const text = formatCsvDataset(train, validation);
    assert.match(text, /^f1,f2,f3,f4,label\n/);
    const back = parseCsvDataset(text, { features: 4, classes: 3 });
    assert.equal(back.samples, train.samples + validation.samples);
    assert.deepEqual(back.features.subarray(0, train.features.length), train.features);
    assert.deepEqual(back.features.subarray(train.features.length), validation.features);
    assert.deepEqual([...back.labels], [...train.labels, ...validation.labels]);
  });
});

describe("splitShard", () => {
  it("validates on every third row, trains on the rest, in order", () => {
    const data = parseCsvDataset("0,0,0\n1,1,1\n2,2,2\n3,3,0\n4,4,1\n5,5,2\n6,6,0\n", shape);
    const { train, validation } = splitShard(data);
    assert.deepEqual([...validation.features], [2, 2, 5, 5]);
    assert.deepEqual([...validation.labels], [2, 2]);
    assert.deepEqual([...train.features], [0, 0, 1, 1, 3, 3, 4, 4, 6, 6]);
    assert.deepEqual([...train.labels], [0, 1, 0, 1, 0]);
  });

  it("gives both parts a row when there are only two", () => {
    const { train, validation } = splitShard(parseCsvDataset("0,0,0\n1,1,1\n", shape));
    assert.equal(train.samples, 1);
    assert.equal(validation.samples, 1);
  });
});

describe("createSoftmaxTasks on a CSV file", () => {
  it("trains on the file's rows: the same model as training on them directly", async () => {
    const blobs = collaboratorShard("csv-user").train;
    const shard = splitShard(parseCsvDataset(formatCsvDataset(blobs), { features: 4, classes: 3 }));
    const tasks = createSoftmaxTasks(() => shard);
    const train = tasks.train as (
      ctx: never,
    ) => Promise<{ tensors: Record<string, { data: Float32Array }> }>;
    const ctx = {
      taskName: "train",
      round: 0,
      collaboratorName: "anyone",
      model: initialModel(),
      localTensors: {},
      signal: new AbortController().signal,
    };
    const result = await train(ctx as never);
    const direct = initialModel();
    const model = {
      weight: Float32Array.from(direct["dense.weight"]?.data ?? []),
      bias: Float32Array.from(direct["dense.bias"]?.data ?? []),
    };
    trainSgd(model, shard.train, { ...TRAINING, seed: 1 });
    assert.deepEqual(result.tensors["dense.weight"]?.data, model.weight);
  });
});
