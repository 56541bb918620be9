export { abortableSleep } from "./abortable-sleep.js";
export {
  type AggregatedTensorOptions,
  AggregatorClient,
  type CallOptions,
  type InteropReply,
  parsePendingTaskResults,
  type RetryEvent,
  type Task,
  type TaskAssignment,
} from "./aggregator-client.js";
export type { AggregatorConnection, AggregatorConnector } from "./aggregator-connection.js";
export {
  type AggregatorClientOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
} from "./client-options.js";
export {
  dataStreamChunks,
  isChunkSize,
  joinDataStreamChunks,
  OPENFL_CHUNK_BYTES,
} from "./datastream-chunks.js";
export {
  AggregatorCallError,
  CertificateLoadError,
  type GiveUpReason,
  HeaderMismatchError,
  InvalidOptionError,
  OpenFLClientError,
  TensorCodecError,
} from "./errors.js";
export {
  type CauseInfo,
  type Classification,
  causeChain,
  classifyFailure,
  type Disposition,
  type PlatformFailure,
  type PlatformFailureClassifier,
} from "./failure-classifier.js";
/** The generated Task message (the name `Task` is the client's own view of a task). */
export type { Task as TaskMessage } from "./gen/openfl/protocols/aggregator_pb.js";
export * from "./gen/openfl/protocols/aggregator_pb.js";
export * from "./gen/openfl/protocols/base_pb.js";
export {
  type CollaboratorIdentity,
  expectedResponseHeader,
  requestHeader,
} from "./message-header.js";
export { InMemoryResendBuffer, type PendingRequest, type ResendBuffer } from "./resend-buffer.js";
export {
  backoffDelayMs,
  defaultRetryPolicy,
  type ResolvedRetryPolicy,
  type RetryOptions,
  resolveRetryPolicy,
} from "./retry-policy.js";
export { concatParts, partsByteLength, serializeTaskResultsParts } from "./task-results-parts.js";
export {
  COMPRESSED_TAG,
  decodeNamedTensor,
  type EncodeOptions,
  encodeNamedTensor,
  type Float32Tensor,
  LOSSY_COMPRESSED_TAG,
  receivedTags,
} from "./tensor-codec.js";
export { validateResponseHeader } from "./validate-response.js";
export { wholeEnvelopes } from "./whole-envelopes.js";
