export {
  AGGREGATOR_SERVICE,
  collaboratorCluster,
  envoyConfigObject,
  generateEnvoyConfig,
  JWT_FILTER,
  JWT_PAYLOAD_KEY,
  UPLOAD_METHOD,
} from "./generate.js";
export {
  type CollaboratorIdentity,
  checkEnvoyInput,
  type EnvoyInput,
  EnvoyInputError,
  type JwksSource,
  parseEnvoyInput,
  type TlsFiles,
} from "./input.js";
