import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfig } from "../config.js";
import { ConfigError } from "../config-error.js";
import { readCollaboratorWorkspace } from "./collaborator-workspace.js";
import { generatePort } from "./openfl-plan.js";
import { describeWorkspace } from "./plan-show.js";
import { parseWorkspaceArgs } from "./workspace-args.js";
import { loadStartConfig } from "./workspace-config.js";
import { WorkspaceError } from "./workspace-error.js";

/** A plan as `fx plan initialize` leaves one before it inlines the defaults. */
const PLAN = `aggregator :
  defaults : plan/defaults/aggregator.yaml
  template : openfl.component.Aggregator
  settings :
    rounds_to_train : 3
collaborator :
  defaults : plan/defaults/collaborator.yaml
  template : openfl.component.Collaborator
data_loader :
  defaults : plan/defaults/data_loader.yaml
  template : src.dataloader.CsvShardLoader
task_runner :
  defaults : plan/defaults/task_runner.yaml
  template : src.taskrunner.NumpySoftmaxTaskRunner
network :
  defaults : plan/defaults/network.yaml
  settings :
    agg_addr : 127.0.0.1
    agg_port : 50123
assigner :
  defaults : plan/defaults/assigner.yaml
tasks :
  defaults : plan/defaults/tasks_keras.yaml
compression_pipeline :
  defaults : plan/defaults/compression_pipeline.yaml
`;

function workspace(
  options: { plan?: string; cols?: string[]; certs?: boolean; overlay?: string } = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), "openfl-workspace-"));
  mkdirSync(join(dir, "plan"));
  mkdirSync(join(dir, "cert", "client"), { recursive: true });
  writeFileSync(join(dir, "plan", "plan.yaml"), options.plan ?? PLAN);
  writeFileSync(
    join(dir, "plan", "cols.yaml"),
    `collaborators:\n${(options.cols ?? ["col1", "col2"]).map((c) => `- ${c}`).join("\n")}\n`,
  );
  writeFileSync(join(dir, "plan", "data.yaml"), "# name,path\ncol1,data/1\ncol2,data/2\n");
  if (options.certs !== false) {
    writeFileSync(join(dir, "cert", "cert_chain.crt"), "");
    writeFileSync(join(dir, "cert", "client", "col_col2.crt"), "");
    writeFileSync(join(dir, "cert", "client", "col_col2.key"), "");
  }
  if (options.overlay !== undefined) {
    writeFileSync(join(dir, "plan", "openfl-connect.yaml"), options.overlay);
  }
  return dir;
}

const read = (dir: string, name = "col2") =>
  readCollaboratorWorkspace({ dir, collaboratorName: name });

function refuses(dir: string, pattern: RegExp, name = "col2"): void {
  assert.throws(
    () => read(dir, name),
    (e: unknown) => e instanceof WorkspaceError && pattern.test(e.message),
  );
}

describe("reading an OpenFL workspace as fx collaborator start does", () => {
  it("derives the uuids from the plan's hash, and the client's options from its settings", () => {
    const dir = workspace();
    const { config, plan, taskContext } = read(dir);
    assert.match(plan.federationUuid, /^plan\.yaml_[0-9a-f]{8}$/);
    assert.equal(plan.federationUuid, `plan.yaml_${plan.hash.slice(0, 8)}`);
    assert.equal(config.aggregatorUuid, `aggregator_${plan.federationUuid}`);
    assert.equal(config.aggAddr, "127.0.0.1");
    assert.equal(config.aggPort, 50123);
    assert.equal(config.collaboratorName, "col2");
    // OpenFL's network defaults: client_reconnect_interval 5 (seconds), use_tls True.
    assert.deepEqual(config.retry, { intervalMs: 5000 });
    assert.equal(config.useTls, true);
    assert.equal(config.requireClientAuth, true);
    assert.equal(config.enableAtomicConnections, false);
    // collaborator defaults: use_delta_updates True.
    assert.equal(config.useDeltaUpdates, true);
    assert.equal(config.rootCertificate, join(dir, "cert", "cert_chain.crt"));
    assert.equal(config.certificate, join(dir, "cert", "client", "col_col2.crt"));
    assert.equal(config.privateKey, join(dir, "cert", "client", "col_col2.key"));
    assert.equal(taskContext.dataPath, join(dir, "data", "2"));
    assert.equal(taskContext.optTreatment, "CONTINUE_LOCAL");
    assert.deepEqual(Object.keys(taskContext.planTasks).sort(), [
      "aggregated_model_validation",
      "locally_tuned_model_validation",
      "train",
    ]);
    assert.deepEqual((taskContext.planTasks.train as { kwargs: unknown }).kwargs, {
      batch_size: 32,
      epochs: 1,
      metrics: ["loss"],
    });
  });

  it("changes the uuids when the plan changes, and derives an auto port from the hash", () => {
    const before = read(workspace()).plan;
    const after = read(
      workspace({ plan: PLAN.replace("rounds_to_train : 3", "rounds_to_train : 4") }),
    ).plan;
    assert.notEqual(after.federationUuid, before.federationUuid);
    const auto = read(
      workspace({ plan: PLAN.replace("agg_port : 50123", "agg_port : auto") }),
    ).plan;
    assert.ok(auto.aggPort >= 49152 && auto.aggPort < 60999, String(auto.aggPort));
    assert.equal(generatePort("0000ffff"), 49152 + (0xffff % (60999 - 49152)));
    assert.match(auto.notes.join("\n"), /agg_port is auto/);
  });

  it("refuses a collaborator cols.yaml does not list, naming the file and who is listed", () => {
    refuses(
      workspace({ cols: ["col1"] }),
      /collaborator 'col2' is not in .*cols\.yaml \(collaborators: col1\)/,
    );
  });

  it("refuses plan settings this client cannot honour before connecting, naming key and value", () => {
    const cases: [string, RegExp][] = [
      [
        withPipeline("openfl.pipelines.EdenPipeline").replace(
          "  template : openfl.component.Collaborator",
          "  template : openfl.component.Collaborator\n  settings :\n    use_delta_updates : true",
        ),
        /compression_pipeline\.template: openfl\.pipelines\.EdenPipeline is not supported .*need torch.*use_delta_updates: false/,
      ],
      [
        PLAN.replace(
          "    rounds_to_train : 3",
          "    rounds_to_train : 3\n    secure_aggregation : true",
        ),
        /aggregator\.settings\.secure_aggregation: true is not supported/,
      ],
      [
        `${PLAN}connector :\n  template : openfl.component.ConnectorFlower\n`,
        /connector: .* no Flower/,
      ],
    ];
    for (const [plan, pattern] of cases) refuses(workspace({ plan }), pattern);
  });

  it("hands opt_treatment CONTINUE_GLOBAL to the task module (optimizer state is the task set's to send)", () => {
    const plan = PLAN.replace(
      "  template : openfl.component.Collaborator",
      "  template : openfl.component.Collaborator\n  settings :\n    opt_treatment : CONTINUE_GLOBAL",
    );
    assert.equal(read(workspace({ plan })).taskContext.optTreatment, "CONTINUE_GLOBAL");
  });

  it("takes network.settings.transport_protocol as OpenFL does (lower-cased), refusing what OpenFL refuses", () => {
    const withProtocol = (value: string) =>
      PLAN.replace(
        "    agg_port : 50123",
        `    agg_port : 50123\n    transport_protocol : ${value}`,
      );
    for (const [value, expected] of [
      ["rest", "rest"],
      ["REST", "rest"],
      ["grpc", "grpc"],
    ] as const) {
      const { config, sources } = read(workspace({ plan: withProtocol(value) }));
      assert.equal(config.transportProtocol, expected, value);
      assert.equal(sources.transportProtocol, "network.settings.transport_protocol");
    }
    // OpenFL's defaults (plan/defaults/network.yaml) say grpc when the plan does not.
    assert.equal(read(workspace()).config.transportProtocol, "grpc");
    refuses(
      workspace({ plan: withProtocol("http") }),
      /network\.settings\.transport_protocol: expected grpc or rest \(as OpenFL's Plan\.get_client\), got .*http/,
    );
    const keys = read(workspace({ plan: withProtocol("rest") })).ignored.map((k) => k.key);
    assert.ok(!keys.includes("network.settings.transport_protocol"), keys.join(", "));
  });

  it("says how to get a missing certificate", () => {
    refuses(
      workspace({ certs: false }),
      /no cert\/cert_chain\.crt .*fx workspace export|no cert\/cert_chain\.crt/,
    );
  });

  it("lists the plan keys it reads but does not act on, with the reason", () => {
    const keys = read(workspace()).ignored.map((k) => k.key);
    for (const key of [
      "network.settings.hash_salt",
      "network.settings.cert_folder",
      "collaborator.settings.db_store_rounds",
      "task_runner.template",
    ]) {
      assert.ok(keys.includes(key), `${key} in ${keys.join(", ")}`);
    }
  });
});

/** PLAN with compression_pipeline's template (and settings lines, already indented). */
function withPipeline(template: string, settings: string[] = []): string {
  const block =
    settings.length === 0 ? "" : `\n  settings :\n${settings.map((l) => `    ${l}`).join("\n")}`;
  return PLAN.replace(
    "  defaults : plan/defaults/compression_pipeline.yaml",
    `  defaults : plan/defaults/compression_pipeline.yaml\n  template : ${template}${block}`,
  );
}

describe("a workspace's compression_pipeline", () => {
  it("is the default NoCompressionPipeline of OpenFL's defaults when the plan names none", () => {
    const { config, sources } = read(workspace());
    assert.equal(config.compressionPipeline, "openfl.pipelines.NoCompressionPipeline");
    assert.equal(sources.compressionPipeline, "compression_pipeline.template");
  });

  it("takes the template and the settings its pipeline reads; lists the others as ignored", () => {
    const stc = read(
      workspace({
        plan: withPipeline("openfl.pipelines.STCPipeline", ["p_sparsity : 0.05", "n_clusters : 4"]),
      }),
    );
    assert.equal(stc.config.compressionPipeline, "openfl.pipelines.STCPipeline");
    assert.equal(stc.config.pSparsity, 0.05);
    assert.equal(stc.config.nClusters, undefined);
    assert.equal(stc.sources.pSparsity, "compression_pipeline.settings.p_sparsity");
    const ignored = stc.ignored.find((k) => k.key === "compression_pipeline.settings.n_clusters");
    assert.match(ignored?.reason ?? "", /not read by STCPipeline/);
    const skc = read(
      workspace({
        plan: withPipeline("openfl.pipelines.skc_pipeline.SKCPipeline", [
          "p_sparsity : 0.2",
          "n_clusters : 3",
        ]),
      }),
    ).config;
    assert.deepEqual([skc.pSparsity, skc.nClusters], [0.2, 3]);
    const kc = read(
      workspace({ plan: withPipeline("openfl.pipelines.KCPipeline", ["n_clusters : 8"]) }),
    ).config;
    assert.deepEqual(
      [kc.compressionPipeline, kc.pSparsity, kc.nClusters],
      ["openfl.pipelines.KCPipeline", undefined, 8],
    );
  });

  it("takes EdenPipeline without delta updates (every tensor lossless)", () => {
    const plan = withPipeline("openfl.pipelines.EdenPipeline").replace(
      "  template : openfl.component.Collaborator",
      "  template : openfl.component.Collaborator\n  settings :\n    use_delta_updates : false",
    );
    assert.equal(
      read(workspace({ plan })).config.compressionPipeline,
      "openfl.pipelines.EdenPipeline",
    );
  });

  it("refuses an unknown class and a setting out of range, naming the key, what it expects and the value", () => {
    refuses(
      workspace({ plan: withPipeline("openfl.pipelines.ZipPipeline") }),
      /compression_pipeline\.template: expected one of openfl\.pipelines\.NoCompressionPipeline, .*got openfl\.pipelines\.ZipPipeline$/,
    );
    refuses(
      workspace({ plan: withPipeline("openfl.pipelines.STCPipeline", ["p_sparsity : 1.5"]) }),
      /compression_pipeline\.settings\.p_sparsity: expected .*got 1\.5/,
    );
    refuses(
      workspace({ plan: withPipeline("openfl.pipelines.KCPipeline", ["n_clusters : 0"]) }),
      /compression_pipeline\.settings\.n_clusters: expected .*got 0/,
    );
  });
});

describe("openfl-collaborator start: the workspace, then the overlay, env vars and flags", () => {
  const args = (dir: string, ...rest: string[]) =>
    parseWorkspaceArgs(["-n", "col2", "--workspace", dir, ...rest], "start");

  it("takes the task module from plan/openfl-connect.yaml, and lets env vars and flags win", () => {
    const dir = workspace({ overlay: "tasks: ../src/tasks.ts\nlog: json\n" });
    const { config } = loadStartConfig(args(dir), {});
    assert.equal(config.tasks, join(dir, "src", "tasks.ts"));
    assert.equal(config.aggPort, 50123);
    const flagged = loadStartConfig(args(dir, "--agg-port", "6000"), {
      OPENFL_LOG: "pretty",
    }).config;
    assert.equal(flagged.aggPort, 6000);
    assert.equal(flagged.log, "pretty");
  });

  it("says where the task module goes when none is given", () => {
    assert.throws(
      () => loadStartConfig(args(workspace()), {}),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.key === "tasks" &&
        /no task module: give --tasks MODULE, or write "tasks: \.\.\/src\/tasks\.ts"/.test(
          e.message,
        ),
    );
  });

  it("needs -n, as fx collaborator start does", () => {
    assert.throws(() => parseWorkspaceArgs(["--workspace", "."], "start"), /Give -n NAME/);
  });

  it("plan show names the uuids and where each value came from", () => {
    const dir = workspace({ overlay: "tasks: ../src/tasks.ts\n" });
    const started = loadStartConfig(args(dir), {});
    const text = describeWorkspace(started.workspace, { ...started.config }, started.overlay);
    assert.match(text, new RegExp(`federation uuid +${started.workspace.plan.federationUuid}`));
    assert.match(
      text,
      /retry +\{"intervalMs":5000\} +<- network\.settings\.client_reconnect_interval/,
    );
    assert.match(text, /not used +network\.settings\.hash_salt = auto: /);
    // The protocol is used now (grpc or rest), so it is not among the keys not used.
    assert.doesNotMatch(text, /^not used +network\.settings\.transport_protocol/m);
  });
});

describe("a --config file with OpenFL's plan keys", () => {
  it("points client_reconnect_interval at retry.intervalMs with the unit change", () => {
    const dir = mkdtempSync(join(tmpdir(), "collaborator-config-"));
    const file = join(dir, "c.yaml");
    writeFileSync(file, "client_reconnect_interval: 5\n");
    assert.throws(
      () => loadConfig({ argv: ["--config", file], env: {} }),
      /client_reconnect_interval 5 \(seconds\) is retry\.intervalMs 5000/,
    );
  });
});
