// A config key's names on the command line and in the environment.

/** "retry.intervalMs" -> "--retry-interval-ms" */
export function flagName(key: string): string {
  return `--${key.replace(/\./g, "-").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** "retry.intervalMs" -> "OPENFL_RETRY_INTERVAL_MS" */
export function envName(key: string): string {
  return `OPENFL_${key
    .replace(/\./g, "_")
    .replace(/[A-Z]/g, (c) => `_${c}`)
    .toUpperCase()}`;
}
