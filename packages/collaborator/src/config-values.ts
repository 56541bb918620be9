// One value's check: its type and range (the core client's own rules for its options), paths
// resolved, and the text of a flag or env var turned into the key's type first.
import { isAbsolute, resolve } from "node:path";
import { InvalidOptionError, pipelineFromTemplate } from "@openfl-connect/core";
import { resolveRetryPolicy } from "@openfl-connect/core/internal";
import { ConfigError } from "./config-error.js";
import { type ConfigField, fieldOf } from "./config-schema.js";

/** Checks a YAML value's type and range; resolves paths against `baseDir`. */
export function checkValue(
  key: string,
  field: ConfigField,
  value: unknown,
  where: string,
  baseDir: string,
): unknown {
  const fail = (expected: string) =>
    new ConfigError(
      key,
      `config key '${key}' in ${where}: expected ${expected}, got ${shown(value)}`,
    );
  switch (field.type) {
    case "string":
      if (typeof value !== "string" || value === "") throw fail("a non-empty string");
      checkPipelineValue(key, value, fail);
      return field.path && !isAbsolute(value) ? resolve(baseDir, value) : value;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) throw fail("a whole number");
      checkRange(field, value, fail);
      checkPipelineValue(key, value, fail);
      return value;
    case "number":
      if (typeof value !== "number" || Number.isNaN(value)) throw fail("a number");
      checkRange(field, value, fail);
      if (key.startsWith("retry.")) checkRetryValue(key.slice(6), value, fail);
      checkPipelineValue(key, value, fail);
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw fail("true or false");
      return value;
    case "enum":
      if (typeof value !== "string" || !field.values.includes(value)) {
        throw fail(field.values.map((v) => JSON.stringify(v)).join(" or "));
      }
      return value;
  }
}

/** Core's own rule for one retry option (one home for the ranges). */
function checkRetryValue(
  option: string,
  value: unknown,
  fail: (expected: string) => ConfigError,
): void {
  try {
    resolveRetryPolicy({ [option]: value });
  } catch (error) {
    if (error instanceof InvalidOptionError) throw fail(error.expected);
    throw error;
  }
}

/** Core's rules for the pipeline keys (pipelineFromTemplate: the class names, the settings' ranges). */
const PIPELINE_CHECKS: Readonly<Record<string, (value: unknown) => unknown>> = {
  compressionPipeline: (value) => pipelineFromTemplate(String(value)),
  pSparsity: (value) => pipelineFromTemplate("openfl.pipelines.STCPipeline", { p_sparsity: value }),
  nClusters: (value) => pipelineFromTemplate("openfl.pipelines.KCPipeline", { n_clusters: value }),
};

function checkPipelineValue(
  key: string,
  value: unknown,
  fail: (expected: string) => ConfigError,
): void {
  try {
    PIPELINE_CHECKS[key]?.(value);
  } catch (error) {
    if (error instanceof InvalidOptionError) throw fail(error.expected);
    throw error;
  }
}

function checkRange(
  field: { readonly min?: number; readonly max?: number },
  value: number,
  fail: (expected: string) => ConfigError,
): void {
  const { min, max } = field;
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    throw fail(
      min !== undefined && max !== undefined
        ? `a number from ${min} to ${max}`
        : min !== undefined
          ? `a number >= ${min}`
          : `a number <= ${max}`,
    );
  }
}

/** Turns a flag's or env var's text into the key's type, then checks it like a YAML value. */
export function coerce(key: string, raw: string, where: string, cwd: string): unknown {
  const field = fieldOf(key);
  let value: unknown = raw;
  if (field.type === "integer" || field.type === "number") {
    const text = raw.trim();
    value = text === "Infinity" || text === "inf" ? Number.POSITIVE_INFINITY : Number(text);
    if (text === "" || Number.isNaN(value)) value = raw;
  } else if (field.type === "boolean") {
    if (["true", "1", "yes"].includes(raw.toLowerCase())) value = true;
    else if (["false", "0", "no"].includes(raw.toLowerCase())) value = false;
  }
  return checkValue(key, field, value, where, cwd);
}

/** A value as the user wrote it: JSON, but numbers as numbers (Infinity is not "null"). */
function shown(value: unknown): string {
  return typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
}
