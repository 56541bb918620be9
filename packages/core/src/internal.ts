// @openfl-connect/core/internal: the building blocks the adapters (node, web) and the tools of
// this repository use: connectors, failure classification, framing, headers, option resolution.
// Not for applications, and not kept under semantic versioning.
export { abortableSleep } from "./abortable-sleep.js";
export type { AggregatorConnection, AggregatorConnector } from "./aggregator-connection.js";
export { copyParts } from "./byte-parts.js";
export { type ResolvedClientOptions, resolveClientOptions } from "./client-options.js";
export { dataStreamChunks, isChunkSize, joinDataStreamChunks } from "./datastream-chunks.js";
export { dataStreamEnvelopeParts, dataStreamFraming } from "./datastream-envelope.js";
export {
  type CauseInfo,
  type Classification,
  causeChain,
  classifyFailure,
  type Disposition,
  type PlatformFailure,
  type PlatformFailureClassifier,
} from "./failure-classifier.js";
export { platformIsLittleEndian, readFloat32LittleEndian } from "./float32-bytes.js";
export {
  ENVELOPE_COMPRESSED_FLAG,
  ENVELOPE_PREFIX_BYTES,
  envelopeMessageLength,
  writeEnvelopePrefix,
} from "./grpc-envelope.js";
export { expectedResponseHeader, requestHeader } from "./message-header.js";
export { LOSSY_DECOMPRESSED_TAG } from "./pipelines/codec-tags.js";
export { float32Step, kmeansBoundViolation } from "./pipelines/lossy-bounds.js";
export { type CodeTable, tableIsOrderDependent } from "./pipelines/lossy-codes.js";
export { describeLayout, guessLayout } from "./pipelines/metadata-layout.js";
export { DEFAULT_N_CLUSTERS, DEFAULT_P_SPARSITY } from "./pipelines/pipeline-settings.js";
export { keptCount, sparsify } from "./pipelines/sparsity.js";
export { varint } from "./protobuf-varint.js";
export {
  backoffDelayMs,
  defaultRetryPolicy,
  type ResolvedRetryPolicy,
  resolveRetryPolicy,
} from "./retry-policy.js";
export { serializeTaskResultsParts } from "./task-results-parts.js";
export { validateResponseHeader } from "./validate-response.js";
export { type AllocateEnvelope, wholeEnvelopes } from "./whole-envelopes.js";
