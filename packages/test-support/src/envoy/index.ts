// Envoy for the tests and the demo: the binary, its config check, the generator input for a test
// federation, test JWTs, and one start-up.
export { EnvoyMissingError, envoyBinary, validateEnvoyConfig } from "./envoy-binary.js";
export { bearer, envoyWebClient } from "./envoy-web-client.js";
export { grpcWebFrame, grpcWebPost } from "./raw-grpc-web.js";
export { shippedConfigWithTestFiles } from "./shipped-config-files.js";
export { type StalledCall, stalledCall } from "./stalled-call.js";
export { type EnvoyOptions, type RunningEnvoy, startEnvoy, type TestUser } from "./start-envoy.js";
export {
  DEPLOYED_ENVOY_CONFIG,
  DEPLOYED_ENVOY_INPUT,
  deployedEnvoyInput,
  type TestEnvoyInputOptions,
  testEnvoyInput,
} from "./test-envoy-input.js";
export { createTestJwtKey, type JwtClaims, signJwt, type TestJwtKey } from "./test-jwt.js";
export { bytesUpstream, nothingReachesAggregator, relayQuiet } from "./upstream-bytes.js";
