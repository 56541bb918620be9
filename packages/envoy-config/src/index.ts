export {
  AGGREGATOR_SERVICE,
  ALLOWED_METHODS,
  collaboratorCluster,
  envoyConfigObject,
  generateEnvoyConfig,
  JWT_FILTER,
  JWT_PAYLOAD_KEY,
  UPLOAD_METHOD,
} from "./generate.js";
export {
  type CertificateKeyFiles,
  checkEnvoyInput,
  DEFAULT_EDGE_LIMITS,
  type EdgeIdentity,
  type EdgeLimits,
  type EnvoyInput,
  EnvoyInputError,
  type JwksSource,
  parseEnvoyInput,
} from "./input.js";
