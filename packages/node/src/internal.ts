// @openfl-connect/node/internal: the building blocks of AggregatorGRPCClient (the connector,
// the reading of Node's failures, the TLS checks), for tools built on it. Not for
// applications, and not kept under semantic versioning.
export { createConnector, createNodeConnector } from "./aggregator-grpc-client.js";
export { NodeConnector, type NodeConnectorSettings } from "./node-connector.js";
export { classifyNodeFailure } from "./node-failure.js";
export { NodeRestConnector, type RestConnectorSettings } from "./rest-connector.js";
export {
  type CheckedTls,
  type ClientIdentity,
  checkTlsMaterial,
  commonName,
} from "./tls-material.js";
