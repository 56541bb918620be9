// @openfl-connect/collaborator/internal: what this repository's tests use beyond the API (the
// CLI with its durable buffer wrapped, for the crash tests). In the workspace's exports only:
// the published package (publishConfig) has no ./internal, so the hook is not its API.
export { type CliExtensions, runCli } from "./cli.js";
