// Counts what the collaborator loop moves (tensor bytes down and up) and says what it is doing,
// around any CollaboratorClient.
import type { CollaboratorClient } from "@openfl-connect/collaborator/browser";

export interface TransferEvents {
  /** A download or upload starts ("model dense.weight", "train results"). */
  readonly onTransfer?: (direction: "down" | "up", what: string) => void;
  /** Tensor bytes moved, after the call succeeded. */
  readonly onBytes: (direction: "down" | "up", bytes: number) => void;
}

export function countingClient(
  client: CollaboratorClient,
  events: TransferEvents,
): CollaboratorClient {
  return {
    getTasks: (options) => client.getTasks(options),
    resendPending: (options) => client.resendPending(options),
    getAggregatedTensor: async (name, round, options) => {
      events.onTransfer?.("down", `model ${name}`);
      const tensor = await client.getAggregatedTensor(name, round, options);
      events.onBytes("down", tensor.dataBytes.byteLength);
      return tensor;
    },
    sendLocalTaskResults: async (round, taskName, dataSize, tensors, options) => {
      events.onTransfer?.("up", `${taskName} results`);
      await client.sendLocalTaskResults(round, taskName, dataSize, tensors, options);
      events.onBytes(
        "up",
        tensors.reduce((n, t) => n + t.dataBytes.byteLength, 0),
      );
    },
  };
}
