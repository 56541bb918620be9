/** Log lines of the collaborator. Fields carry names, sizes and numbers: never keys or tensor contents. */
export type LogLevel = "debug" | "info" | "warn" | "error";

export type LogFormat = "json" | "pretty";

export type Logger = (
  level: LogLevel,
  event: string,
  fields?: Readonly<Record<string, unknown>>,
) => void;

/**
 * One line per entry on `stream`: JSON (`{"time","level","event",...fields}`) or a readable
 * `HH:MM:SS level event key=value ...`. Debug entries are dropped unless `debug` is true.
 */
export function createLogger(
  format: LogFormat,
  stream: NodeJS.WritableStream,
  options: { readonly debug?: boolean; readonly collaborator?: string } = {},
): Logger {
  return (level, event, fields = {}) => {
    if (level === "debug" && !options.debug) return;
    const time = new Date();
    if (format === "json") {
      stream.write(
        `${JSON.stringify({ time: time.toISOString(), level, collaborator: options.collaborator, event, ...fields })}\n`,
      );
      return;
    }
    const parts = Object.entries(fields).map(([k, v]) => `${k}=${prettyValue(v)}`);
    const who = options.collaborator ? ` [${options.collaborator}]` : "";
    stream.write(
      `${time.toTimeString().slice(0, 8)} ${level.padEnd(5)}${who} ${event}${parts.length ? ` ${parts.join(" ")}` : ""}\n`,
    );
  };
}

function prettyValue(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(4);
  if (typeof v === "string") return /\s/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** Drops every entry. */
export const silentLogger: Logger = () => {};
