// The mixed federation with the plan's transport_protocol: rest (issue 25): OpenFL's real
// Aggregator behind AggregatorRESTServer, its Collaborator on AggregatorRESTClient, two of ours
// with transportProtocol "rest"; and one of ours killed mid-upload, its durable buffer resent
// over REST (mixed-federation-cases.ts).
import { after } from "node:test";
import { stopCliRuns } from "@openfl-connect/test-support/collaborator-cli";
import { describeKilledMidUpload, describeMixedFederationRun } from "./mixed-federation-cases.js";

// A failed assertion must not leave a CLI child running (it would keep the run alive).
after(stopCliRuns);

describeMixedFederationRun({ useDeltaUpdates: true, transportProtocol: "rest" });
describeKilledMidUpload("rest");
