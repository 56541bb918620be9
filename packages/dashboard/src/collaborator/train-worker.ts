// The collaborator page's Web Worker: training runs here so the page stays responsive.
import { type ToWorker, TrainWorkerState } from "./train-protocol.js";

const state = new TrainWorkerState();
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: unknown): void;
};
scope.onmessage = (event) => {
  void state.handle(event.data).then((reply) => scope.postMessage(reply));
};
