// A mixed federation run by OpenFL 1.9's REAL Aggregator over gRPC (the plan's default), both
// delta settings, and a Node collaborator killed mid-upload (mixed-federation-cases.ts).
import { after } from "node:test";
import { stopCliRuns } from "@openfl-connect/test-support/collaborator-cli";
import { describeKilledMidUpload, describeMixedFederationRun } from "./mixed-federation-cases.js";

// A failed assertion must not leave a CLI child running (it would keep the run alive).
after(stopCliRuns);

for (const useDeltaUpdates of [false, true]) {
  describeMixedFederationRun({ useDeltaUpdates, transportProtocol: "grpc" });
}
describeKilledMidUpload("grpc");
