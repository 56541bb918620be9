// The workspace federation of fx-workspace-start.spec.ts and fx-workspace-rest.spec.ts: a
// workspace made only with OpenFL's own commands (fx-workspace.ts), OpenFL's `fx aggregator
// start` and `fx collaborator start -n col1`, and ours as `openfl-collaborator start -n col2`
// with nothing but a task module, checked to the end. One spec file per transport, so that each
// stays within the suite's per-file timeout.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  completedInRound,
  createFxWorkspace,
  type FederationProcess,
  FX_SOFTMAX_TASK_MODULE,
  type FxWorkspace,
  ourLogEntries,
  readFxLog,
  readFxModelState,
  runFxFederation,
} from "./fx-workspace.js";
import { REPO_ROOT, requirePython } from "./openfl-fixture.js";

const ROUNDS = 3;
const TASKS = ["aggregated_model_validation", "train", "locally_tuned_model_validation"];
const COLLABORATORS = ["col1", "col2"];
/** From the aggregator's start to the last exit (about 40 s: OpenFL's collaborators sleep 10 s). */
const FEDERATION_TIMEOUT_MS = 4 * 60_000;
const QUICK_START_HEADING = "### Joining a federation made with OpenFL's own commands";

/** The commands of the README's quick start for OpenFL users, comments and trailing `&` cut. */
async function readmeQuickStart(): Promise<string[]> {
  const readme = await readFile(join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf(QUICK_START_HEADING));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block !== undefined, `README.md: no sh block under ${QUICK_START_HEADING}`);
  return block
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").replace(/&\s*$/, "").trim())
    .filter((line) => line !== "");
}

/**
 * The describe block of one workspace federation. With transport_protocol rest, fx aggregator
 * start serves AggregatorRESTServer, fx collaborator start uses AggregatorRESTClient and ours
 * reads the key and speaks REST; the aggregator is then "localhost": OpenFL's certificate names
 * the FQDN as a DNS SAN only, which its REST client (Python's ssl) does not match against an IP.
 */
export function describeWorkspaceFederation(options: {
  readonly useDeltaUpdates: boolean;
  readonly transportProtocol: "grpc" | "rest";
  /** Ours gets no --tasks: plan/openfl-connect.yaml names the task module. Default false. */
  readonly overlay?: boolean;
  /** Also check that README.md's quick start is exactly the commands run (needs --tasks). */
  readonly checkQuickStart?: boolean;
}): void {
  const { useDeltaUpdates, transportProtocol, overlay = false, checkQuickStart = false } = options;
  const rest = transportProtocol === "rest";
  describe(`OpenFL workspace (use_delta_updates: ${useDeltaUpdates}${rest ? ", transport_protocol: rest" : ""}): fx aggregator start, fx collaborator start -n col1, openfl-collaborator start -n col2${overlay ? " (task module from plan/openfl-connect.yaml)" : " --tasks MODULE"}`, () => {
    let root: string | undefined;
    let workspace: FxWorkspace;
    const processes: FederationProcess[] = [];
    let ours: FederationProcess | undefined;
    let finished = false;

    before(
      async () => {
        await requirePython();
        root = await mkdtemp(join(tmpdir(), "openfl-fx-workspace-"));
        workspace = await createFxWorkspace({
          dir: join(root, "workspace"),
          collaborators: COLLABORATORS,
          rounds: ROUNDS,
          useDeltaUpdates,
          ...(rest ? { transportProtocol, aggregatorFqdn: "localhost" } : {}),
        });
        if (overlay) {
          await writeFile(
            join(workspace.dir, "plan", "openfl-connect.yaml"),
            `tasks: ${JSON.stringify(FX_SOFTMAX_TASK_MODULE)}\n`,
          );
        }
      },
      { timeout: 300_000 },
    );

    after(async () => {
      await Promise.all(processes.map((p) => p.stop()));
      if (root !== undefined) await rm(root, { recursive: true, force: true });
    });

    test("the README's quick start for OpenFL users is exactly these commands", {
      skip: (!checkQuickStart || overlay) && "checked in the gRPC run that gives --tasks",
    }, async () => {
      const prefix = basename(workspace.dir);
      const readme = (await readmeQuickStart()).map((l) => l.replaceAll("my_federation", prefix));
      const ran = workspace.commands.map((run) => `fx ${run.args.join(" ")}`);
      // The README gives col1's three collaborator commands and says "the same three for col2".
      const col2 = ran.filter((c) => / -n col2\b/.test(c));
      assert.deepEqual(
        col2,
        ran.filter((c) => / -n col1\b/.test(c)).map((c) => c.replaceAll("col1", "col2")),
      );
      assert.deepEqual(
        readme,
        [
          ...ran.slice(0, 1),
          `cd ${prefix}`,
          ...ran.slice(1).filter((c) => !col2.includes(c)),
          // What runFxFederation starts (fx-workspace.ts), ours with its task module.
          "fx aggregator start",
          "fx collaborator start -n col1",
          "openfl-collaborator start -n col2 --tasks ./my-tasks.js",
        ],
        "README.md's quick start and the commands this spec runs differ",
      );
    });

    test("the workspace is what OpenFL's commands made of it", async (t) => {
      for (const run of workspace.commands) {
        t.diagnostic(`fx ${run.args.join(" ")}: ${run.ms} ms`);
      }
      const cols = await readFile(join(workspace.dir, "plan", "cols.yaml"), "utf8");
      for (const name of COLLABORATORS) assert.match(cols, new RegExp(`- ${name}\\b`));
      const data = await readFile(join(workspace.dir, "plan", "data.yaml"), "utf8");
      for (const name of COLLABORATORS)
        assert.match(data, new RegExp(`^${name},data/${name}.csv$`, "m"));
      const plan = await readFile(join(workspace.dir, "plan", "plan.yaml"), "utf8");
      assert.match(plan, rest ? /agg_addr: localhost/ : /agg_addr: 127\.0\.0\.1/);
      if (rest) assert.match(plan, /transport_protocol: rest/);
      assert.match(plan, new RegExp(`use_delta_updates: ${useDeltaUpdates}`));
      // fx plan initialize wrote the round-0 model the task runner's get_tensor_dict gave.
      const init = await readFxModelState(workspace.dir, "save/init.pbuf");
      assert.equal(init.round, 0);
      assert.deepEqual(init.tensors["dense.weight"]?.shape, [3, 4]);
      assert.deepEqual(init.tensors["dense.bias"]?.shape, [3]);
      assert.ok([...(init.tensors["dense.weight"]?.values ?? [])].every((v) => v === 0));
    });

    test(`all three processes exit 0 after ${ROUNDS} rounds`, {
      timeout: FEDERATION_TIMEOUT_MS + 90_000,
    }, async (t) => {
      const run = await runFxFederation(workspace, {
        fxName: "col1",
        ourName: "col2",
        taskModule: overlay ? null : FX_SOFTMAX_TASK_MODULE,
        timeoutMs: FEDERATION_TIMEOUT_MS,
        started: (p) => processes.push(p),
      });
      ours = run.ours;
      for (const [label, ms] of Object.entries(run.times)) {
        t.diagnostic(`${label} exited 0 after ${ms} ms`);
      }
      finished = true;
    });

    test("the aggregator's log: every round completed with both collaborators", async () => {
      assert.ok(finished, "the federation did not finish");
      const log = await readFxLog(workspace.dir, "aggregator");
      for (let round = 0; round < ROUNDS; round++) {
        assert.deepEqual(completedInRound(log, round), COLLABORATORS, `round ${round}`);
        for (const name of COLLABORATORS) {
          for (const task of TASKS) {
            assert.match(
              log,
              new RegExp(
                `Collaborator ${name} is sending task results for ${task}, round ${round}\\b`,
              ),
            );
          }
        }
      }
      assert.match(log, /Experiment Completed/);
      assert.doesNotMatch(log, /Traceback|ERROR|for the wrong round|already has task results/);
    });

    test("the aggregator saved the last round's model (save/last.pbuf), trained", async () => {
      assert.ok(finished, "the federation did not finish");
      const last = await readFxModelState(workspace.dir, "save/last.pbuf");
      // OpenFL saves the model of round r at the end of round r: the last is round ROUNDS-1's.
      assert.equal(last.round, ROUNDS - 1);
      const weight = last.tensors["dense.weight"];
      assert.deepEqual(weight?.shape, [3, 4]);
      assert.ok(
        weight?.values.some((v) => v !== 0),
        "the model never moved from zeros",
      );
    });

    test("our collaborator's JSON log shows every round it worked", () => {
      assert.ok(finished && ours !== undefined, "the federation did not finish");
      const entries = ourLogEntries(ours.stdout());
      for (let round = 0; round < ROUNDS; round++) {
        const tasks = entries
          .filter((e) => e.event === "task done" && e.round === round)
          .map((e) => e.task);
        assert.deepEqual(tasks, TASKS, `round ${round}`);
      }
      const done = entries.find((e) => e.event === "finished");
      assert.equal(done?.roundsWorked, ROUNDS, JSON.stringify(done));
      assert.equal(done?.tasksRun, ROUNDS * TASKS.length);
      assert.equal(entries.filter((e) => e.level === "error").length, 0, ours.stdout());
    });
  });
}
