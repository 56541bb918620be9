export {
  AggregatorGRPCClient,
  type AggregatorGRPCClientOptions,
  createNodeConnector,
} from "./aggregator-grpc-client.js";
export { FileResendBuffer, type FileResendBufferOptions } from "./file-resend-buffer.js";
export {
  NodeConnector,
  type NodeConnectorSettings,
  OPENFL_MAX_MESSAGE_BYTES,
} from "./node-connector.js";
export { classifyNodeFailure } from "./node-failure.js";
export {
  checkKeyMatchesCertificate,
  commonName,
  type LoadedPem,
  loadCertificates,
  loadPrivateKey,
} from "./pem-files.js";
export {
  PendingDirError,
  PendingDirLockedError,
  type PendingDirLockHolder,
  PendingDirUnsafeError,
  PendingDiskFullError,
} from "./pending-dir-errors.js";
