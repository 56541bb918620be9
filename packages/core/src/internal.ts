// @openfl-connect/core/internal: the building blocks the adapters (node, web) and the tools of
// this repository use: connectors, failure classification, framing, headers, retry option
// resolution, and the pipelines' bounds the interop parity specs check. Only what is imported
// outside core: core's own specs import its files directly. Not for applications, and not kept
// under semantic versioning.
export { abortableSleep } from "./abortable-sleep.js";
export type { AggregatorConnection, AggregatorConnector } from "./aggregator-connection.js";
export { copyParts } from "./byte-parts.js";
export { dataStreamChunks, joinDataStreamChunks } from "./datastream-chunks.js";
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
export { platformIsLittleEndian } from "./float32-bytes.js";
export {
  ENVELOPE_COMPRESSED_FLAG,
  ENVELOPE_PREFIX_BYTES,
  envelopeMessageLength,
} from "./grpc-envelope.js";
export { expectedResponseHeader, requestHeader } from "./message-header.js";
export { float32Step, kmeansBoundViolation } from "./pipelines/lossy-bounds.js";
export { type CodeTable, tableIsOrderDependent } from "./pipelines/lossy-codes.js";
export { keptCount, sparsify } from "./pipelines/sparsity.js";
export { varint } from "./protobuf-varint.js";
export { type ResolvedRetryPolicy, resolveRetryPolicy } from "./retry-policy.js";
export { serializeTaskResultsParts } from "./task-results-parts.js";
export { type AllocateEnvelope, wholeEnvelopes } from "./whole-envelopes.js";
