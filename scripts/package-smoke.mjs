// Imports the packed libraries with plain Node (no TypeScript loader) and makes one real call,
// to show that what would be published works for a user. Run by scripts/check-packages.sh.
import assert from "node:assert/strict";
import { createServer } from "node:http2";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { CollaboratorService } from "@openfl-connect/collaborator";
import * as softmax from "@openfl-connect/collaborator/tasks/softmax-regression";
import { decodeNamedTensor, encodeNamedTensor } from "@openfl-connect/core";
import { expectedResponseHeader } from "@openfl-connect/core/internal";
import { Aggregator } from "@openfl-connect/core/protocol";
import * as nodeLibrary from "@openfl-connect/node";
import { AggregatorGRPCClient } from "@openfl-connect/node";
import { createNodeConnector } from "@openfl-connect/node/internal";
import { createKerasTasks, kerasWeights } from "@openfl-connect/tfjs";
import * as webLibrary from "@openfl-connect/web";
import { AggregatorWebClient } from "@openfl-connect/web";
import { createWebConnector } from "@openfl-connect/web/internal";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";

// The adapters' building blocks are published under ./internal, not beside the client.
assert.equal(typeof createNodeConnector, "function");
assert.equal(typeof createWebConnector, "function");
assert.equal("createNodeConnector" in nodeLibrary, false);
assert.equal("createWebConnector" in webLibrary, false);

const identity = {
  aggregatorUuid: "aggregator_fed",
  federationUuid: "fed",
  collaboratorName: "one",
};

const named = encodeNamedTensor(
  { shape: [2, 2], data: [1, 2, 3, 4] },
  { name: "w", roundNumber: 0 },
);
assert.deepEqual([...decodeNamedTensor(named).data], [1, 2, 3, 4]);

const server = createServer(
  connectNodeAdapter({
    routes: ({ service }) =>
      service(Aggregator, {
        getTasks: () => ({
          header: expectedResponseHeader(identity),
          roundNumber: 3,
          tasks: [{ name: "train" }],
        }),
      }),
  }),
);
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const client = new AggregatorGRPCClient({
  ...identity,
  aggAddr: "127.0.0.1",
  aggPort: server.address().port,
  useTls: false,
  warn: () => {},
});
const tasks = await client.getTasks();
assert.equal(tasks.roundNumber, 3);
assert.equal(tasks.tasks[0]?.name, "train");
await client.disconnect();
server.close();

new AggregatorWebClient({ ...identity, proxyUrl: "https://proxy.example.org" });

// The collaborator library's loop and the softmax task set, against the same kind of server.
let sent = 0;
const loopServer = createServer(
  connectNodeAdapter({
    routes: ({ service }) =>
      service(Aggregator, {
        getTasks: () => ({
          header: expectedResponseHeader(identity),
          roundNumber: 0,
          tasks: sent === 0 ? [{ name: "train" }] : [],
          quit: sent > 0,
        }),
        getAggregatedTensor: (request) => ({
          header: expectedResponseHeader(identity),
          tensor: encodeNamedTensor(softmax.initialModel()[request.tensorName], {
            name: request.tensorName,
            roundNumber: 0,
            tags: ["model"],
          }),
        }),
        sendLocalTaskResults: async (stream) => {
          for await (const _ of stream);
          sent++;
          return { header: expectedResponseHeader(identity) };
        },
      }),
  }),
);
await new Promise((resolve) => loopServer.listen(0, "127.0.0.1", resolve));
const loopClient = new AggregatorGRPCClient({
  ...identity,
  aggAddr: "127.0.0.1",
  aggPort: loopServer.address().port,
  useTls: false,
  warn: () => {},
});
const outcome = await new CollaboratorService({
  client: loopClient,
  collaboratorName: identity.collaboratorName,
  taskSet: softmax,
}).run();
assert.deepEqual(outcome, { t: "quit", roundsWorked: 1, tasksRun: 1 });
assert.equal(sent, 1);
await loopClient.disconnect();
loopServer.close();

// A TF.js model as Keras tasks, from the packed tfjs library with TF.js from the registry.
await tf.setBackend("cpu");
const model = tfl.sequential({
  layers: [tfl.layers.dense({ inputShape: [2], units: 2, activation: "softmax" })],
});
model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
assert.deepEqual(
  kerasWeights(model).map((w) => w.name),
  ["dense/kernel", "dense/bias"],
);
const data = { features: Float32Array.of(0, 1, 1, 0), labels: [0, 1], samples: 2 };
const keras = createKerasTasks({ model, data: { train: data, validation: data } });
const start = Object.fromEntries(
  kerasWeights(model).map((w) => [w.name, { shape: w.shape, data: w.variable.read().dataSync() }]),
);
const trained = await keras.tasks.train.run({
  taskName: "train",
  round: 0,
  collaboratorName: "one",
  model: start,
  localTensors: {},
  signal: new AbortController().signal,
});
assert.equal(trained.dataSize, 2);
assert.deepEqual(Object.keys(trained.tensors), ["dense/kernel", "dense/bias"]);
console.log("packed @openfl-connect/core, node, web, collaborator and tfjs work under plain Node");
