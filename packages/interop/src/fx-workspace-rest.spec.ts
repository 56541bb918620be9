// The same workspace federation with the plan's network.settings.transport_protocol: rest
// (issue 25): fx aggregator start serves OpenFL's AggregatorRESTServer, fx collaborator start
// -n col1 uses its AggregatorRESTClient, and ours, openfl-collaborator start -n col2, reads the
// key from the plan and speaks REST (fx-workspace-federation.ts).
import { describeWorkspaceFederation } from "./fx-workspace-federation.js";

describeWorkspaceFederation({ useDeltaUpdates: true, transportProtocol: "rest" });
