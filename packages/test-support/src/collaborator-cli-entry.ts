// The collaborator CLI as the test suites run it: the CLI's `main` (runCli, from the
// workspace-only ./internal), with its durable buffer wrapped to pause at a crash point when
// OPENFL_COLLABORATOR_TEST_HOOK asks for one. The pause lives here, not in the published package.
import { runCli } from "@openfl-connect/collaborator/internal";
import { PAUSE_ENV, pauseResendBuffer } from "./pause-resend-buffer.js";

const spec = process.env[PAUSE_ENV];
const code = await runCli(process.argv.slice(2), {
  wrapResendBuffer: (buffer, logger) =>
    pauseResendBuffer(buffer, spec, (details) => logger("warn", "test hook: paused", details)),
});
process.exit(code);
