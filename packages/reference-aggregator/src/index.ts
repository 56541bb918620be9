export {
  ReferenceAggregator,
  type ReferenceAggregatorOptions,
  type ServerTlsFiles,
} from "./aggregator-server.js";
export {
  type AggregatorServiceOptions,
  createAggregatorService,
  DEFAULT_MAX_UPLOAD_BYTES,
  type PeerIdentity,
  peerContextValues,
  peerIdentityKey,
} from "./aggregator-service.js";
export {
  AggregatorState,
  type AggregatorStateOptions,
  DEFAULT_TASKS,
  NO_TASK_SLEEP_SECONDS,
  type ResultsOutcome,
  type ResultsRecord,
  type RoundSummary,
  type TaskAssignment,
  type TaskResultsInput,
  type UploadReceived,
} from "./aggregator-state.js";
export { AggregatorStateError } from "./aggregator-state-error.js";
export {
  type AggregatorLogger,
  defaultLogger,
  jsonLineLogger,
  type LogLevel,
  silentLogger,
} from "./logger.js";
export {
  type CertificatePair,
  collaboratorConnection,
  createTestPki,
  ensureTestPki,
  issueCollaborator,
  type TestEndpoint,
  type TestPki,
  type TestPkiOptions,
  testPkiPaths,
} from "./pki.js";
export type { ReceivedTensor } from "./received-tensor.js";
export type { TensorRequest } from "./tensor-requests.js";
