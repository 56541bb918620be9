import {
  decodeNamedTensor,
  formatBytes,
  INTERACTIVE_RETRY,
  type RetryEvent,
  receivedTags,
} from "@openfl-connect/core";
import { AggregatorWebClient, createXhrFetch, type UploadProgress } from "@openfl-connect/web";
import { bearerTokenInterceptor, loadAccessToken, saveAccessToken } from "./access-token.js";
import { describeError } from "./describe-error.js";
import { loadPageConfig } from "./page-config.js";
import { pageElements } from "./page-elements.js";
import {
  type DashboardSettings,
  initialSettings,
  missingSettings,
  saveSettings,
} from "./settings.js";
import { fillSettingsForm, readSettingsForm } from "./settings-form.js";
import { randomTestTensor, sha256Hex } from "./test-tensor.js";
import { type UploadState, uploadFraction, uploadStatusText } from "./upload-state.js";

const { element, input } = pageElements("dashboard (index.html)");

// ---- log and errors ---------------------------------------------------------------------

function log(call: string, outcome: "ok" | "failed" | "info", text: string): void {
  const item = document.createElement("li");
  item.className = outcome === "info" ? "" : outcome;
  item.dataset.call = call;
  item.dataset.outcome = outcome;
  item.textContent = `${new Date().toLocaleTimeString()}  ${call}  ${outcome.toUpperCase()}  ${text}`;
  element("log").prepend(item);
}

function showError(summary: string, detail: string | undefined, kind: string): void {
  const box = element("error");
  box.replaceChildren(document.createTextNode(summary));
  box.dataset.kind = kind;
  if (detail) {
    const small = document.createElement("small");
    small.textContent = detail;
    box.append(small);
  }
  box.hidden = false;
}

function clearError(): void {
  element("error").hidden = true;
}

function showResult(id: string, rows: readonly (readonly [string, string])[]): void {
  const list = element(id);
  list.replaceChildren(
    ...rows.flatMap(([term, value]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dd.dataset.field = term;
      return [dt, dd];
    }),
  );
}

// ---- calls ----------------------------------------------------------------------------

let uploadProgressSink: ((progress: UploadProgress) => void) | undefined;
const xhrFetch = createXhrFetch({ onUploadProgress: (p) => uploadProgressSink?.(p) });

function newClient(
  settings: DashboardSettings,
  accessToken: string,
  call: string,
  withProgress = false,
) {
  return new AggregatorWebClient({
    proxyUrl: loadPageConfig().proxyUrl,
    aggregatorUuid: settings.aggregatorUuid,
    federationUuid: settings.federationUuid,
    collaboratorName: settings.collaboratorName,
    // A person is waiting: the dashboard gives up sooner than a collaborator would.
    retry: INTERACTIVE_RETRY,
    // Authorization: Bearer <token> on every call, for a proxy that checks users (Envoy jwt_authn).
    interceptors: [bearerTokenInterceptor(accessToken)],
    // fetch() reports no upload progress; XMLHttpRequest does.
    ...(withProgress ? { fetch: xhrFetch } : {}),
    onRetry: (e: RetryEvent) =>
      log(call, "info", `attempt ${e.attempt} failed (${e.failure}); retrying in ${e.delayMs} ms`),
  });
}

/** Runs one call: checks settings, times it, logs the outcome, explains a failure. */
async function run(
  call: string,
  button: HTMLButtonElement,
  body: (client: AggregatorWebClient, settings: DashboardSettings) => Promise<string>,
  options: { withProgress?: boolean; onError?: (summary: string) => void } = {},
): Promise<void> {
  const settings = readSettingsForm(input);
  const missing = missingSettings(settings);
  if (missing.length > 0) {
    const summary = `Fill in the settings first: ${missing.join(", ")}.`;
    showError(summary, undefined, "invalid-setting");
    log(call, "failed", summary);
    return;
  }
  saveSettings(localStorage, settings);
  clearError();
  button.disabled = true;
  const started = performance.now();
  try {
    // Validated here so a bad token is reported like any failure (its value is never shown).
    saveAccessToken(sessionStorage, input("accessToken").value);
    const accessToken = loadAccessToken(sessionStorage);
    const client = newClient(settings, accessToken, call, options.withProgress);
    const text = await body(client, settings);
    log(call, "ok", `${text} (${Math.round(performance.now() - started)} ms)`);
  } catch (error) {
    const described = describeError(error, {
      proxyUrl: proxyUrlForMessages(),
      origin: location.origin,
    });
    showError(described.summary, described.detail, described.kind);
    log(call, "failed", `${described.summary} [${described.detail}]`);
    options.onError?.(described.summary);
  } finally {
    button.disabled = false;
  }
}

function setUploadState(state: UploadState): void {
  const bar = element<HTMLProgressElement>("upload-progress");
  const fraction = uploadFraction(state);
  bar.hidden = fraction === undefined && state.t !== "preparing";
  if (fraction === undefined) bar.removeAttribute("value");
  else bar.value = fraction;
  const status = element("upload-status");
  status.textContent = uploadStatusText(state, formatBytes);
  status.dataset.state = state.t;
  status.className = `status ${state.t === "done" ? "ok" : state.t === "failed" ? "failed" : ""}`;
}

function proxyUrlForMessages(): string {
  try {
    return loadPageConfig().proxyUrl;
  } catch {
    return "(not configured)";
  }
}

function wire(): void {
  fillSettingsForm(input, initialSettings(localStorage, location.search));
  try {
    element("proxyUrl").textContent = loadPageConfig().proxyUrl;
  } catch (error) {
    const described = describeError(error, { proxyUrl: "", origin: location.origin });
    showError(described.summary, undefined, described.kind);
  }
  input("accessToken").value = loadAccessToken(sessionStorage);

  element<HTMLFormElement>("settings").addEventListener("submit", (event) => {
    event.preventDefault();
    saveSettings(localStorage, readSettingsForm(input));
    try {
      saveAccessToken(sessionStorage, input("accessToken").value);
    } catch (error) {
      const described = describeError(error, { proxyUrl: "", origin: location.origin });
      showError(described.summary, undefined, described.kind);
      element("settings-status").textContent = "access token not saved";
      return;
    }
    element("settings-status").textContent = "saved";
    log(
      "Settings",
      "info",
      input("accessToken").value.trim() === ""
        ? "saved in this browser (localStorage); no access token"
        : "saved in this browser (localStorage); access token kept for this tab (sessionStorage)",
    );
  });

  const pingButton = element<HTMLButtonElement>("ping");
  pingButton.addEventListener("click", () => {
    element("ping-result").textContent = "";
    void run("Ping", pingButton, async (client) => {
      await client.ping();
      element("ping-result").textContent = "the aggregator answered";
      element("ping-result").className = "status ok";
      return "the aggregator answered";
    });
  });

  const tasksButton = element<HTMLButtonElement>("get-tasks");
  tasksButton.addEventListener("click", () => {
    void run("GetTasks", tasksButton, async (client) => {
      const r = await client.getTasks();
      showResult("tasks-result", [
        ["round", String(r.roundNumber)],
        ["tasks", r.tasks.length === 0 ? "(none)" : r.tasks.map((t) => t.name).join(", ")],
        ["sleep", `${r.sleepTime} s`],
        ["quit", String(r.quit)],
      ]);
      input("upload-round").value = String(r.roundNumber);
      return `round ${r.roundNumber}, tasks [${r.tasks.map((t) => t.name).join(", ")}], sleep ${r.sleepTime} s, quit ${r.quit}`;
    });
  });

  element<HTMLFormElement>("tensor-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const button = element<HTMLButtonElement>("get-tensor");
    void run("GetAggregatedTensor", button, async (client) => {
      const name = input("tensor-name").value.trim();
      if (name === "") throw new Error("Give the tensor's name.");
      const round = Number(input("tensor-round").value);
      const tags = input("tensor-tags")
        .value.split(",")
        .map((t) => t.trim())
        .filter((t) => t !== "");
      const named = await client.getAggregatedTensor(name, round, {
        tags,
        requireLossless: input("tensor-lossless").checked,
      });
      if (named.name === "" && named.dataBytes.byteLength === 0) {
        showResult("tensor-result", [["tensor", "(empty: the aggregator sent no tensor)"]]);
        return `${name}: empty tensor`;
      }
      const tensor = decodeNamedTensor(named);
      const first = [...tensor.data.subarray(0, 8)].map((v) => v.toPrecision(4)).join(", ");
      showResult("tensor-result", [
        ["name", named.name],
        ["round", String(named.roundNumber)],
        ["tags", receivedTags(named).join(", ")],
        ["shape", `[${tensor.shape.join(", ")}]`],
        ["values", `${tensor.data.length}`],
        ["first values", tensor.data.length > 8 ? `${first}, …` : first],
      ]);
      return `${named.name} shape [${tensor.shape.join(", ")}]`;
    });
  });

  element<HTMLFormElement>("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const button = element<HTMLButtonElement>("send-results");
    element("upload-result").replaceChildren();
    void run(
      "SendLocalTaskResults",
      button,
      async (client) => {
        const mib = Number(input("upload-mib").value);
        const round = Number(input("upload-round").value);
        const task = input("upload-task").value.trim();
        const dataSize = Number(input("upload-data-size").value);
        setUploadState({ t: "preparing", mib });
        // Let the page paint "preparing" before the CPU-bound work.
        await new Promise((resolve) => setTimeout(resolve, 0));
        const tensor = randomTestTensor(mib, round);
        const sha256 = await sha256Hex(tensor.dataBytes);
        const started = performance.now();
        uploadProgressSink = (p) =>
          setUploadState(
            p.total > 0 && p.loaded >= p.total
              ? { t: "waiting", total: p.total }
              : { t: "uploading", sent: p.loaded, total: p.total },
          );
        try {
          await client.sendLocalTaskResults(round, task, dataSize, [tensor]);
        } finally {
          uploadProgressSink = undefined;
        }
        const bytes = tensor.dataBytes.byteLength;
        setUploadState({ t: "done", total: bytes, sha256, ms: performance.now() - started });
        showResult("upload-result", [
          ["tensor", tensor.name],
          ["round", String(round)],
          ["task", task],
          ["tensor bytes", String(bytes)],
          ["sha256", sha256],
        ]);
        return `${formatBytes(bytes)} for task ${task} round ${round}, sha256 ${sha256}`;
      },
      { withProgress: true, onError: (summary) => setUploadState({ t: "failed", summary }) },
    );
  });
}

wire();
