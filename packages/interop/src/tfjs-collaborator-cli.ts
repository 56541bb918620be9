// Our Node collaborator CLI running @openfl-connect/tfjs's digits task module (CPU backend) on a
// digits shard, joined to OpenFL's aggregator of startOpenFLFederation: what the real-model
// federations (this package's spec, the dashboard's browser harness) start beside the Keras
// collaborators.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CollaboratorConfig } from "@openfl-connect/collaborator";
import { collaboratorConnection, type TestPki } from "@openfl-connect/reference-aggregator/pki";
import { type CliRun, runCli } from "@openfl-connect/test-support/collaborator-cli";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "./openfl-fixture.js";

const DIGITS_TASKS = fileURLToPath(
  import.meta.resolve("@openfl-connect/tfjs/examples/digits-task-module"),
);

export function startTfjsCollaboratorCli(o: {
  readonly pki: TestPki;
  readonly name: string;
  /** The OpenFL aggregator's port. */
  readonly port: number;
  /** The collaborator's digits CSV (exportDigitsShards). */
  readonly dataCsv: string;
  /** Where its config file goes. */
  readonly dir: string;
  /** Config keys besides the connection and the task module, e.g. useDeltaUpdates. */
  readonly extra?: Partial<CollaboratorConfig>;
  /** The plan's opt_treatment (the task module's OPENFL_TFJS_OPT_TREATMENT). Default RESET. */
  readonly optTreatment?: "RESET" | "CONTINUE_LOCAL" | "CONTINUE_GLOBAL";
}): Promise<CliRun> {
  const config = join(o.dir, `${o.name}.json`);
  const settings = {
    ...collaboratorConnection(o.pki, o.name, {
      port: o.port,
      aggregatorUuid: AGGREGATOR_UUID,
      federationUuid: FEDERATION_UUID,
    }),
    tasks: DIGITS_TASKS,
    log: "json",
    ...o.extra,
  };
  return writeFile(config, JSON.stringify(settings)).then(() =>
    runCli(["--config", config], {
      OPENFL_TFJS_DATA: o.dataCsv,
      OPENFL_TFJS_BACKEND: "cpu",
      OPENFL_TFJS_OPT_TREATMENT: o.optTreatment ?? "RESET",
    }),
  );
}
