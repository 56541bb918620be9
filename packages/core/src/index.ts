// @openfl-connect/core: what an application uses. Adapters and tools built on core import
// `@openfl-connect/core/internal`; the generated protobuf code is `@openfl-connect/core/protocol`.

export { MAX_TIMER_MS } from "./abortable-sleep.js";
export {
  type AggregatedTensorOptions,
  AggregatorClient,
  type CallOptions,
  type InteropReply,
  parsePendingTaskResults,
  type Task,
  type TaskAssignment,
} from "./aggregator-client.js";
export { concatParts, partsByteLength } from "./byte-parts.js";
export type { AggregatorClientOptions } from "./client-options.js";
export { OPENFL_CHUNK_BYTES } from "./datastream-chunks.js";
export {
  AggregatorCallError,
  CertificateLoadError,
  type GiveUpReason,
  HeaderMismatchError,
  InvalidOptionError,
  OpenFLClientError,
  TensorCodecError,
} from "./errors.js";
export { isAccessTokenRefusal } from "./failure-classifier.js";
export { formatBytes } from "./format-bytes.js";
export type { MetadataProto, NamedTensor } from "./gen/openfl/protocols/base_pb.js";
export type { CollaboratorIdentity } from "./message-header.js";
export { decodeModelFile, encodeModelFile, type ModelFile } from "./model-proto.js";
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
export {
  type CompressionPipeline,
  isLossyPipeline,
  OPENFL_PIPELINE_CLASS,
  type OpenFLPipelineClass,
  type PipelineKind,
  pipelineFromTemplate,
} from "./pipelines/pipeline-config.js";
export { type SendLossyInput, shouldSendLossy } from "./pipelines/send-lossy.js";
export { InMemoryResendBuffer, type PendingRequest, type ResendBuffer } from "./resend-buffer.js";
export { INTERACTIVE_RETRY, type RetryEvent, type RetryOptions } from "./retry-policy.js";
export {
  COMPRESSED_TAG,
  decodeNamedTensor,
  type EncodeOptions,
  encodeNamedTensor,
  type Float32Tensor,
  LOSSY_COMPRESSED_TAG,
  receivedTags,
} from "./tensor-codec.js";
export { applyDelta, generateDelta } from "./tensor-delta.js";
