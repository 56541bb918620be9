import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Float32Tensor } from "@openfl-connect/core";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ModelMismatchError, OptimizerStateError } from "./errors.js";
import { digitsCnn } from "./examples/digits-cnn.js";
import { getModelWeights, setModelWeights } from "./model-weights.js";
import { getOptimizerState, kerasOptimizerTensors, setOptimizerState } from "./optimizer-state.js";

before(async () => {
  await tf.setBackend("cpu");
});

/** A small model with a user-named layer and an automatic one, compiled with `optimizer`. */
function small(optimizer: tf.Optimizer, options: { name?: string; functional?: boolean } = {}) {
  let model: tfl.LayersModel;
  if (options.functional) {
    const input = tfl.input({ shape: [3] });
    const hidden = tfl.layers.dense({ units: 4, name: "hid" }).apply(input) as tfl.SymbolicTensor;
    model = tfl.model({
      inputs: input,
      outputs: tfl.layers.dense({ units: 2 }).apply(hidden) as tfl.SymbolicTensor,
    });
  } else {
    model = tfl.sequential({
      ...(options.name === undefined ? {} : { name: options.name }),
      layers: [
        tfl.layers.dense({ inputShape: [3], units: 4, name: "hid" }),
        tfl.layers.dense({ units: 2 }),
      ],
    });
  }
  model.compile({ optimizer, loss: "meanSquaredError" });
  return model;
}

const x = () => tf.tensor2d([0.1, 0.2, 0.3, -0.4, 0.5, 0.6, 0.7, -0.8, 0.9, 1, 0.5, -0.2], [4, 3]);
const y = () => tf.tensor2d([1, 0, 0, 1, 1, 1, 0, 0], [4, 2]);

async function fitOnce(model: tfl.LayersModel, epochs = 1) {
  const [xs, ys] = [x(), y()];
  await model.fit(xs, ys, { batchSize: 2, epochs, shuffle: false, verbose: 0 });
  tf.dispose([xs, ys]);
}

const names = (model: tfl.LayersModel) => kerasOptimizerTensors(model).map((t) => t.name);

describe("the optimizer's state under KerasTaskRunner's names (CONTINUE_GLOBAL)", () => {
  it("names the digits CNN's Adam state as Keras 3 names it for the same model (iteration, learning_rate, then momentum and velocity per weight)", () => {
    // What KerasTaskRunner._get_weights_names(model.optimizer) gives for digits_keras.build_cnn()
    // after one fit (Keras 3.10 on JAX); the interop spec checks it against Keras itself.
    const perWeight = ["conv2d", "dense", "dense_1"].flatMap((layer) =>
      ["kernel", "bias"].flatMap((w) => [
        `sequential_${layer}_${w}_momentum`,
        `sequential_${layer}_${w}_velocity`,
      ]),
    );
    const tensors = kerasOptimizerTensors(digitsCnn());
    assert.deepEqual(
      tensors.map((t) => t.name),
      ["iteration", "learning_rate", ...perWeight],
    );
    assert.deepEqual(tensors[0]?.shape, []);
    assert.deepEqual(tensors[2]?.shape, [3, 3, 1, 16]);
    assert.deepEqual(tensors.at(-1)?.shape, [10]);
  });

  it("prefixes a Sequential model's own name, and nothing for a functional model, as Keras's variable paths do", () => {
    assert.deepEqual(names(small(tf.train.adagrad(0.1), { name: "net" })).slice(2), [
      "net_hid_kernel_accumulator",
      "net_hid_bias_accumulator",
      "net_dense_kernel_accumulator",
      "net_dense_bias_accumulator",
    ]);
    assert.deepEqual(names(small(tf.train.adadelta(1), { functional: true })).slice(2), [
      "hid_kernel_accumulated_grad",
      "hid_kernel_accumulated_delta_var",
      "hid_bias_accumulated_grad",
      "hid_bias_accumulated_delta_var",
      "dense_kernel_accumulated_grad",
      "dense_kernel_accumulated_delta_var",
      "dense_bias_accumulated_grad",
      "dense_bias_accumulated_delta_var",
    ]);
    assert.deepEqual(names(small(tf.train.sgd(0.1))), ["iteration", "learning_rate"]);
    // RMSprop adds each slot in its own call: slot by slot, as Keras 3.10 names
    // RMSprop(momentum=0.5, centered=True) on Sequential([Dense(3, name="d")], name="s").
    const rmsprop = tfl.sequential({
      name: "s",
      layers: [tfl.layers.dense({ inputShape: [4], units: 3, name: "d" })],
    });
    rmsprop.compile({
      optimizer: tf.train.rmsprop(0.1, 0.9, 0.5, 1e-7, true),
      loss: "meanSquaredError",
    });
    assert.deepEqual(names(rmsprop), [
      "iteration",
      "learning_rate",
      "s_d_kernel_velocity",
      "s_d_bias_velocity",
      "s_d_kernel_momentum",
      "s_d_bias_momentum",
      "s_d_kernel_average_gradient",
      "s_d_bias_average_gradient",
    ]);
    // Without momentum Keras has no momentum variables (TF.js's moments are not exchanged).
    assert.deepEqual(names(small(tf.train.rmsprop(0.1))).slice(2), [
      "sequential_hid_kernel_velocity",
      "sequential_hid_bias_velocity",
      "sequential_dense_kernel_velocity",
      "sequential_dense_bias_velocity",
    ]);
  });

  for (const [label, make] of [
    ["Adam", () => tf.train.adam(0.01)],
    ["Adagrad", () => tf.train.adagrad(0.05)],
    ["Adadelta", () => tf.train.adadelta(1)],
    ["RMSProp", () => tf.train.rmsprop(0.01)],
    // (Centered too by name only: TF.js's centered RMSProp takes sqrt(ms - mg^2 - epsilon),
    // NaN where a gradient is near zero, whatever the state.)
    ["RMSProp with momentum", () => tf.train.rmsprop(0.01, 0.9, 0.5)],
    ["SGD", () => tf.train.sgd(0.05)],
  ] as const) {
    it(`${label}: a second model given the first's weights and state trains on exactly as the first does`, async () => {
      const a = small(make());
      await fitOnce(a, 2);
      const state = await getOptimizerState(a);
      assert.deepEqual(Object.keys(state), names(a));
      assert.equal(state.iteration?.data[0], 4);
      const b = small(make());
      setModelWeights(b, await getModelWeights(a), "test");
      await setOptimizerState(b, state, "test");
      assert.deepEqual(await getOptimizerState(b), state);
      await fitOnce(a);
      await fitOnce(b);
      const trained = await getModelWeights(a);
      // (NaN would equal NaN below.)
      assert.ok(Object.values(trained).every((t) => t.data.every(Number.isFinite)));
      assert.deepEqual(await getModelWeights(b), trained);
      assert.deepEqual(await getOptimizerState(b), await getOptimizerState(a));
    });
  }

  it("takes the aggregated learning rate and the iteration count truncated, as Keras's set_weights does", async () => {
    for (const make of [() => tf.train.adam(0.01), () => tf.train.sgd(0.01)]) {
      const model = small(make());
      await fitOnce(model);
      const state = await getOptimizerState(model);
      await setOptimizerState(
        model,
        {
          ...state,
          iteration: { shape: [], data: Float32Array.of(7.9) },
          learning_rate: { shape: [], data: Float32Array.of(0.5) },
        },
        "test",
      );
      assert.equal(model.optimizer.getConfig().learningRate, Math.fround(0.5));
      assert.equal((await getOptimizerState(model)).iteration?.data[0], 7);
    }
  });

  it("refuses state that does not fit, naming the tensor, expected vs actual, and changes nothing", async () => {
    const model = small(tf.train.adam(0.01));
    await fitOnce(model);
    const state = await getOptimizerState(model);
    const without = { ...state } as Record<string, Float32Tensor>;
    delete without.sequential_hid_bias_velocity;
    await assert.rejects(
      setOptimizerState(model, without, "round 2"),
      (e: unknown) =>
        e instanceof ModelMismatchError &&
        e.message ===
          "round 2: tensor 'sequential_hid_bias_velocity': the federation's model has no such tensor, this model has [4]",
    );
    const wrong = {
      ...state,
      sequential_dense_kernel_momentum: { shape: [2, 4], data: new Float32Array(8) },
    };
    await assert.rejects(
      setOptimizerState(model, wrong, "round 2"),
      /tensor 'sequential_dense_kernel_momentum': the federation's model has \[2, 4\], this model has \[4, 2\]/,
    );
    const negative = { ...state, iteration: { shape: [], data: Float32Array.of(Number.NaN) } };
    await assert.rejects(
      setOptimizerState(model, negative, "round 2"),
      /TF.js optimizer Adam: round 2: iteration NaN and learning_rate .* must be finite and >= 0/,
    );
    assert.deepEqual(await getOptimizerState(model), state);
  });

  it("has no slot state to send before the first training step (Keras neither)", async () => {
    await assert.rejects(
      getOptimizerState(small(tf.train.adam(0.01))),
      /TF.js optimizer Adam: no 'm' state for weight 'hid\/kernel' yet/,
    );
  });

  it("refuses the optimizers whose state does not map, saying why", () => {
    const cases: [tf.Optimizer, RegExp][] = [
      [tf.train.momentum(0.1, 0.9), /Momentum: .*differ by a factor of -learning_rate/],
      [tf.train.adamax(0.1), /Adamax: .*getWeights and setWeights throw 'not implemented'/],
    ];
    for (const [optimizer, pattern] of cases) {
      assert.throws(
        () => kerasOptimizerTensors(small(optimizer)),
        (e: unknown) => e instanceof OptimizerStateError && pattern.test(e.message),
      );
    }
    const uncompiled = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [1], units: 1 })],
    });
    assert.throws(() => kerasOptimizerTensors(uncompiled), /no optimizer: compile it/);
  });

  it("leaks no tensor across rounds of get and set", async () => {
    const model = small(tf.train.adam(0.01));
    await fitOnce(model);
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      await setOptimizerState(model, await getOptimizerState(model), "test");
      await fitOnce(model);
      counts.push(tf.memory().numTensors);
    }
    assert.equal(new Set(counts).size, 1, `tensors: ${counts.join(", ")}`);
  });
});
