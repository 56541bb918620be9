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
export { loadTlsFiles, type TlsFiles } from "./pem-files.js";
export {
  PendingDirError,
  PendingDirLockedError,
  type PendingDirLockHolder,
  PendingDirUnsafeError,
  PendingDiskFullError,
} from "./pending-dir-errors.js";
export {
  CERTIFICATE_EXPIRY_WARNING_DAYS,
  type CheckedTls,
  type ClientIdentity,
  checkTlsMaterial,
  commonName,
  type TlsMaterial,
} from "./tls-material.js";
