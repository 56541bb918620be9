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
import { AggregatorGRPCClient } from "@openfl-connect/node";
import { AggregatorWebClient } from "@openfl-connect/web";

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
console.log("packed @openfl-connect/core, node, web and collaborator work under plain Node");
