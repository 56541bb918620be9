// The command line: `--key value`, `--key=value`, `--bool-key`, `--no-bool-key`, `--config`.
import { ConfigError } from "./config-error.js";
import { flagName } from "./config-names.js";
import { configKeys, fieldOf } from "./config-schema.js";

const FLAG_TO_KEY = new Map(configKeys().map((k) => [flagName(k), k]));

/** `--key value`, `--key=value`, bare `--bool-key` (= true) and `--no-bool-key` (= false). */
export function parseFlags(argv: readonly string[]): {
  config: string | undefined;
  values: Record<string, string>;
} {
  const values: Record<string, string> = {};
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) {
      throw new ConfigError(
        undefined,
        `unexpected argument '${arg}' (flags look like --agg-port 50051)`,
      );
    }
    const eq = arg.indexOf("=");
    let flag = eq === -1 ? arg : arg.slice(0, eq);
    let value = eq === -1 ? undefined : arg.slice(eq + 1);
    if (flag.startsWith("--no-") && value === undefined && FLAG_TO_KEY.has(`--${flag.slice(5)}`)) {
      flag = `--${flag.slice(5)}`;
      value = "false";
    }
    if (flag === "--config") {
      config = value ?? argv[++i];
      if (config === undefined) throw new ConfigError(undefined, "flag --config needs a file path");
      continue;
    }
    const key = FLAG_TO_KEY.get(flag);
    if (key === undefined) {
      throw new ConfigError(
        flag.slice(2),
        `unknown flag '${flag}'; known flags: --config, ${[...FLAG_TO_KEY.keys()].join(", ")}`,
      );
    }
    if (value === undefined) {
      const next = argv[i + 1];
      if (fieldOf(key).type === "boolean" && (next === undefined || next.startsWith("--"))) {
        value = "true";
      } else if (next === undefined) {
        throw new ConfigError(key, `flag ${flag} needs a value`);
      } else {
        value = next;
        i++;
      }
    }
    values[key] = value;
  }
  return { config, values };
}
