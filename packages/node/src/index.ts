// @openfl-connect/node: what an application uses. The building blocks under it (the connector,
// the reading of Node's failures, the TLS checks) are `@openfl-connect/node/internal`.
export {
  AggregatorGRPCClient,
  type AggregatorGRPCClientOptions,
} from "./aggregator-grpc-client.js";
export { FileResendBuffer, type FileResendBufferOptions } from "./file-resend-buffer.js";
export { OPENFL_MAX_MESSAGE_BYTES } from "./node-connector.js";
export { loadTlsFiles, type TlsFiles } from "./pem-files.js";
export {
  PendingDirError,
  PendingDirLockedError,
  type PendingDirLockHolder,
  PendingDirUnsafeError,
  PendingDiskFullError,
} from "./pending-dir-errors.js";
export { CERTIFICATE_EXPIRY_WARNING_DAYS, type TlsMaterial } from "./tls-material.js";
