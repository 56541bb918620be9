/** Severity of a log entry. */
export type LogLevel = "info" | "warn";

/**
 * Where the reference aggregator reports what it does. Entries never carry tensor contents
 * or key material.
 */
export type AggregatorLogger = (
  level: LogLevel,
  message: string,
  fields?: Readonly<Record<string, unknown>>,
) => void;

/** Warnings as one JSON line each on stderr; info entries are dropped. */
export const defaultLogger: AggregatorLogger = (level, message, fields) => {
  if (level === "info") return;
  process.stderr.write(
    `${JSON.stringify({ level, component: "reference-aggregator", message, ...fields })}\n`,
  );
};

/** Every entry as one JSON line on `stream` (the CLI's logger). */
export function jsonLineLogger(stream: NodeJS.WritableStream): AggregatorLogger {
  return (level, message, fields) => {
    stream.write(
      `${JSON.stringify({ level, component: "reference-aggregator", message, ...fields })}\n`,
    );
  };
}

/** Drops every entry (quiet tests). */
export const silentLogger: AggregatorLogger = () => {};
