/** Where a test upload is; one state at a time. */
export type UploadState =
  | { readonly t: "idle" }
  | { readonly t: "preparing"; readonly mib: number }
  | { readonly t: "uploading"; readonly sent: number; readonly total: number }
  | { readonly t: "waiting"; readonly total: number }
  | { readonly t: "done"; readonly total: number; readonly sha256: string; readonly ms: number }
  | { readonly t: "failed"; readonly summary: string };

/** The progress bar's value in [0, 1], or undefined for "no bar". */
export function uploadFraction(state: UploadState): number | undefined {
  switch (state.t) {
    case "uploading":
      return state.total > 0 ? Math.min(1, state.sent / state.total) : 0;
    case "waiting":
    case "done":
      return 1;
    default:
      return undefined;
  }
}

/** The state line a person reads next to the bar. */
export function uploadStatusText(state: UploadState, formatBytes: (n: number) => string): string {
  switch (state.t) {
    case "idle":
      return "";
    case "preparing":
      return `preparing ${state.mib} MiB of random float32 values…`;
    case "uploading":
      return `uploading ${formatBytes(state.sent)} of ${formatBytes(state.total)}`;
    case "waiting":
      return `uploaded ${formatBytes(state.total)}; waiting for the aggregator…`;
    case "done":
      return `done: ${formatBytes(state.total)} accepted in ${(state.ms / 1000).toFixed(1)} s`;
    case "failed":
      return `failed: ${state.summary}`;
  }
}
