// Envoy for the tests and the demo: the binary, its config check, the test config derived from
// deploy/envoy/envoy.yaml, test JWTs, and one start-up.
export { EnvoyMissingError, envoyBinary, validateEnvoyConfig } from "./envoy-binary.js";
export {
  DEPLOYED_ENVOY_CONFIG,
  deployedEnvoyTestConfig,
  EnvoyConfigShapeError,
  envoyTestConfig,
} from "./envoy-test-config.js";
export { shippedConfigWithTestFiles } from "./shipped-config-files.js";
export { type EnvoyOptions, type RunningEnvoy, startEnvoy } from "./start-envoy.js";
export {
  createTestJwtKey,
  type JwtClaims,
  signJwt,
  type TestJwtKey,
  testAccessToken,
} from "./test-jwt.js";
