// The proof for a user who starts from an OpenFL workspace (gRPC, the plan's default): OpenFL's
// fx aggregator and fx collaborator with ours as openfl-collaborator start, every round to the
// end, with and without delta updates (fx-workspace-federation.ts).
import { describeWorkspaceFederation } from "./fx-workspace-federation.js";

for (const useDeltaUpdates of [false, true]) {
  describeWorkspaceFederation({ useDeltaUpdates, transportProtocol: "grpc" });
}
