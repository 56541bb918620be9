// The proof for a user who starts from an OpenFL workspace (gRPC, the plan's default): OpenFL's
// fx aggregator and fx collaborator with ours as openfl-collaborator start, every round to the
// end, with and without delta updates (fx-workspace-federation.ts). Without delta updates ours is
// given --tasks, as the README's quick start does (and the quick start is checked against the
// commands run); with them it is given nothing but -n col2: the task module is named by
// plan/openfl-connect.yaml beside the plan.
import { describeWorkspaceFederation } from "./fx-workspace-federation.js";

for (const useDeltaUpdates of [false, true]) {
  describeWorkspaceFederation({
    useDeltaUpdates,
    transportProtocol: "grpc",
    overlay: useDeltaUpdates,
    checkQuickStart: !useDeltaUpdates,
  });
}
