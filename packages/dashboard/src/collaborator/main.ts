// The browser collaborator page: OpenFL's collaborator loop (the collaborator package's
// CollaboratorService, as the Node collaborator runs it) over the gRPC-web client, training the
// federation's model (the link's model=: the shared softmax task, or the digits CNN with
// TensorFlow.js) on a file the user picks, in a Web Worker. The file stays in this tab: only the
// tasks' tensors and metrics are sent.
import {
  CollaboratorService,
  type Logger,
  type RunOutcome,
} from "@openfl-connect/collaborator/browser";
import { formatBytes, type ResendBuffer } from "@openfl-connect/core";
import { AggregatorWebClient, IndexedDbResendBuffer } from "@openfl-connect/web";
import { bearerTokenInterceptor, loadAccessToken, saveAccessToken } from "../access-token.js";
import { describeError } from "../describe-error.js";
import { loadPageConfig } from "../page-config.js";
import { pageElements } from "../page-elements.js";
import {
  type DashboardSettings,
  initialSettings,
  missingSettings,
  saveSettings,
} from "../settings.js";
import { fillSettingsForm, readSettingsForm } from "../settings-form.js";
import { accuracyChartSvg, RoundAccuracies } from "./accuracy-chart.js";
import { countingClient } from "./counting-client.js";
import { compressionFrom } from "./link-compression.js";
import {
  backendPreference,
  PAGE_MODELS,
  type PageModel,
  pageModelFrom,
  useDeltaUpdatesFrom,
} from "./page-models.js";
import {
  type LoadedDataset,
  TrainWorkerClient,
  type WorkerPort,
  workerTaskSet,
} from "./worker-task-set.js";

/** The longest no-task sleep: a person watches the page, so poll at least this often. */
const MAX_SLEEP_SECONDS = 5;

const { element, input } = pageElements("collaborator page (collaborator.html)");

function log(event: string, text = ""): void {
  const item = document.createElement("li");
  item.dataset.event = event;
  item.textContent = `${new Date().toLocaleTimeString()}  ${event}${text ? `  ${text}` : ""}`;
  element("log").prepend(item);
}

function showError(error: unknown): void {
  let proxyUrl = "(not configured)";
  try {
    proxyUrl = proxy();
  } catch {}
  const described = describeError(error, { proxyUrl, origin: location.origin });
  const box = element("error");
  box.replaceChildren(document.createTextNode(described.summary));
  box.dataset.kind = described.kind;
  if (described.detail) {
    const small = document.createElement("small");
    small.textContent = described.detail;
    box.append(small);
  }
  box.hidden = false;
  log("error", described.summary);
}

const proxy = () => loadPageConfig().proxyUrl;

const readSettings = () => readSettingsForm(input);

function setState(state: "idle" | "running" | "stopping" | "stopped" | "quit" | "failed"): void {
  const el = element("state");
  el.dataset.state = state;
  el.textContent = {
    idle: "idle",
    running: "running",
    stopping: "stopping...",
    stopped: "stopped (Start resumes)",
    quit: "done: the aggregator ended the experiment",
    failed: "failed (Start retries)",
  }[state];
  element<HTMLButtonElement>("start").disabled = state === "running" || state === "stopping";
  element<HTMLButtonElement>("stop").disabled = state !== "running";
}

// ---- what the page holds ------------------------------------------------------------------

const worker = new TrainWorkerClient(
  new Worker(new URL("./train-worker.ts", import.meta.url), {
    type: "module",
  }) as unknown as WorkerPort,
);
/** The chart's data, kept for this tab (sessionStorage) so a reload keeps it. */
const chartKey = (settings: DashboardSettings) =>
  `openfl-connect.collaborator.accuracy:${settings.federationUuid}:${settings.collaboratorName}`;
let accuracies = new RoundAccuracies();
const bytes = { down: 0, up: 0 };
let dataset: LoadedDataset | undefined;
/** The federation's model, from the link (model=); the softmax regression by default. */
let pageModel: PageModel = "softmax";
let running: AbortController | undefined;
/** One buffer (IndexedDB connection) per identity; opened on first use. */
let buffer: { key: string; value: Promise<IndexedDbResendBuffer> } | undefined;
/** A resend of what a reload left, started when the page loads; Start waits for it. */
let resendOnLoad: Promise<unknown> = Promise.resolve();

function resendBuffer(settings: DashboardSettings): Promise<IndexedDbResendBuffer> {
  const key = `openfl-connect-resend:${settings.federationUuid}:${settings.collaboratorName}`;
  if (buffer?.key !== key) {
    const value = IndexedDbResendBuffer.open({ database: key });
    const opening = { key, value };
    buffer = opening;
    // Not kept when it failed (e.g. another tab held it): the next Start tries again.
    value.catch(() => {
      if (buffer === opening) buffer = undefined;
    });
  }
  return buffer.value;
}

async function showPending(settings: DashboardSettings): Promise<number> {
  const count = await (await resendBuffer(settings)).count();
  element("pending").textContent = String(count);
  return count;
}

function drawChart(): void {
  element("chart").innerHTML = accuracyChartSvg(accuracies.list());
}

function showBytes(): void {
  element("bytes-down").textContent = formatBytes(bytes.down);
  element("bytes-up").textContent = formatBytes(bytes.up);
}

const pageLogger: Logger = (level, event, fields = {}) => {
  if (level === "debug") return;
  const text = Object.entries(fields)
    .map(
      ([k, v]) =>
        `${k}=${typeof v === "number" && !Number.isInteger(v) ? v.toFixed(3) : String(v)}`,
    )
    .join(" ");
  log(event, text);
  if (event === "tasks received" && typeof fields.round === "number") {
    element("round").textContent = String(fields.round);
  }
};

/** The buffer, telling the page after each change (the "waiting to resend" count). */
function notifying(buffer: IndexedDbResendBuffer, onChange: () => void): ResendBuffer {
  return {
    add: async (request) => {
      await buffer.add(request);
      onChange();
    },
    acknowledge: async (id) => {
      await buffer.acknowledge(id);
      onChange();
    },
    discard: async (id, reason) => {
      await buffer.discard(id, reason);
      onChange();
    },
    list: () => buffer.list(),
  };
}

/** The client, its token and its durable buffer, for the settings in the form. */
async function newClient(settings: DashboardSettings) {
  saveAccessToken(sessionStorage, input("accessToken").value);
  const client = new AggregatorWebClient({
    proxyUrl: proxy(),
    aggregatorUuid: settings.aggregatorUuid,
    federationUuid: settings.federationUuid,
    collaboratorName: settings.collaboratorName,
    interceptors: [bearerTokenInterceptor(loadAccessToken(sessionStorage))],
    resendBuffer: notifying(await resendBuffer(settings), () => void showPending(settings)),
    onRetry: (e) =>
      log("retry", `attempt ${e.attempt} failed (${e.failure}); next in ${e.delayMs} ms`),
  });
  return countingClient(client, {
    onTransfer: (direction, what) => {
      element("task").textContent = `${direction === "up" ? "sending" : "fetching"} ${what}`;
    },
    onBytes: (direction, n) => {
      bytes[direction] += n;
      showBytes();
    },
  });
}

async function start(): Promise<void> {
  element("error").hidden = true;
  const settings = readSettings();
  const missing = missingSettings(settings);
  if (missing.length > 0) {
    showError(new Error(`Fill in the federation first: ${missing.join(", ")}.`));
    return;
  }
  if (dataset === undefined) {
    showError(new Error("Pick your CSV file first (it stays in this browser)."));
    return;
  }
  saveSettings(localStorage, settings);
  const controller = new AbortController();
  running = controller;
  setState("running");
  let outcome: RunOutcome;
  try {
    await resendOnLoad.catch(() => {});
    const client = await newClient(settings);
    const service = new CollaboratorService({
      client,
      collaboratorName: settings.collaboratorName,
      taskSet: workerTaskSet(worker, dataset, {
        onStart: (ctx) => {
          element("task").textContent = `training: ${ctx.taskName} (round ${ctx.round})`;
        },
        onResult: (ctx, result) => {
          accuracies.record(ctx.round, ctx.taskName, result.metrics);
          sessionStorage.setItem(chartKey(settings), JSON.stringify(accuracies.list()));
          drawChart();
        },
      }),
      logger: pageLogger,
      maxSleepSeconds: MAX_SLEEP_SECONDS,
      useDeltaUpdates: useDeltaUpdatesFrom(location.search),
      compression: compressionFrom(location.search),
    });
    outcome = await service.run({ signal: controller.signal });
  } catch (error) {
    running = undefined;
    setState("failed");
    showError(error);
    return;
  }
  running = undefined;
  element("task").textContent = "-";
  setState(outcome.t === "quit" ? "quit" : "stopped");
  await showPending(settings).catch(() => {});
}

async function loadDataset(file: File): Promise<void> {
  const status = element("dataset-status");
  dataset = undefined;
  status.dataset.state = "loading";
  status.textContent = "reading...";
  try {
    const loaded = await worker.loadDataset(
      await file.text(),
      pageModel,
      backendPreference(location.search),
    );
    dataset = loaded;
    status.dataset.state = "ready";
    status.textContent = `${loaded.train} rows to train on, ${loaded.validation} to validate (in this browser only)`;
    if (loaded.backend !== undefined) {
      element("backend").textContent = loaded.backend;
      log("backend", `TensorFlow.js trains on ${loaded.backend}`);
    }
  } catch (error) {
    status.dataset.state = "failed";
    status.textContent = "not loaded";
    showError(error);
  }
}

/** After a reload: resend what the aggregator had not acknowledged, once, before anything else. */
async function resendLeftovers(): Promise<void> {
  const settings = readSettings();
  if (missingSettings(settings).length > 0 || loadAccessToken(sessionStorage) === "") return;
  const waiting = await showPending(settings);
  if (waiting === 0) return;
  log("resending", `${waiting} upload(s) left by a reload or crash`);
  const client = await newClient(settings);
  await client.resendPending();
  await showPending(settings);
  log("resent", `${waiting} upload(s)`);
}

function wire(): void {
  const settings = initialSettings(localStorage, location.search);
  fillSettingsForm(input, settings);
  input("accessToken").value = loadAccessToken(sessionStorage);
  try {
    element("proxyUrl").textContent = proxy();
  } catch (error) {
    showError(error);
  }
  try {
    pageModel = pageModelFrom(location.search);
  } catch (error) {
    showError(error);
  }
  element("model").textContent = pageModel;
  element("data-hint").textContent =
    `${PAGE_MODELS[pageModel].hint} Every third row is kept for validation.`;
  accuracies = RoundAccuracies.fromJson(sessionStorage.getItem(chartKey(settings)));
  drawChart();
  input("dataset").addEventListener("change", () => {
    const file = input("dataset").files?.[0];
    if (file !== undefined) void loadDataset(file);
  });
  element("start").addEventListener("click", () => void start());
  element("stop").addEventListener("click", () => {
    setState("stopping");
    running?.abort(new Error("stopped by the user"));
  });
  resendOnLoad = resendLeftovers().catch((error: unknown) => showError(error));
}

wire();
