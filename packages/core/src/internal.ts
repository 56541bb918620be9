// @openfl-connect/core/internal: the building blocks the adapters (node, web) and the tools of
// this repository use: connectors, failure classification, framing, headers, option resolution.
// Not for applications, and not kept under semantic versioning.
export { abortableSleep } from "./abortable-sleep.js";
export type { AggregatorConnection, AggregatorConnector } from "./aggregator-connection.js";
export { copyParts } from "./byte-parts.js";
export { type ResolvedClientOptions, resolveClientOptions } from "./client-options.js";
export { dataStreamChunks, isChunkSize, joinDataStreamChunks } from "./datastream-chunks.js";
export { dataStreamEnvelopeParts } from "./datastream-envelope.js";
export {
  type CauseInfo,
  type Classification,
  causeChain,
  classifyFailure,
  type Disposition,
  type PlatformFailure,
  type PlatformFailureClassifier,
} from "./failure-classifier.js";
export {
  ENVELOPE_COMPRESSED_FLAG,
  ENVELOPE_PREFIX_BYTES,
  envelopeMessageLength,
  writeEnvelopePrefix,
} from "./grpc-envelope.js";
export { expectedResponseHeader, requestHeader } from "./message-header.js";
export { LOSSY_DECOMPRESSED_TAG } from "./pipelines/codec-tags.js";
export {
  type DecodedTensor,
  type DecodeTensorOptions,
  decodeTensor,
  type Gunzip,
} from "./pipelines/decode-tensor.js";
export {
  type EncodeTensorOptions,
  encodeTensor,
  type Gzip,
} from "./pipelines/encode-tensor.js";
export { float32Step, kmeansBoundViolation } from "./pipelines/lossy-bounds.js";
export { type CodeTable, tableIsOrderDependent } from "./pipelines/lossy-codes.js";
export { describeLayout, guessLayout } from "./pipelines/metadata-layout.js";
export {
  type CompressionPipeline,
  isLossyPipeline,
  OPENFL_PIPELINE_CLASS,
  type OpenFLPipelineClass,
  type PipelineKind,
  pipelineFromTemplate,
} from "./pipelines/pipeline-config.js";
export { DEFAULT_N_CLUSTERS, DEFAULT_P_SPARSITY } from "./pipelines/pipeline-settings.js";
export { type SendLossyInput, shouldSendLossy } from "./pipelines/send-lossy.js";
export { keptCount, sparsify } from "./pipelines/sparsity.js";
export {
  backoffDelayMs,
  defaultRetryPolicy,
  type ResolvedRetryPolicy,
  resolveRetryPolicy,
} from "./retry-policy.js";
export { serializeTaskResultsParts } from "./task-results-parts.js";
export { platformIsLittleEndian, readFloat32LittleEndian } from "./tensor-codec.js";
export { validateResponseHeader } from "./validate-response.js";
export { type AllocateEnvelope, wholeEnvelopes } from "./whole-envelopes.js";
