// A loaded plan value as plain JSON, for task modules and messages: Python floats become numbers,
// integers past 2^53 and timestamps their YAML text.
import { PyDate, PyDateTime, PyFloat, type PyValue } from "./py-values.js";

export function toJson(value: PyValue | undefined): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof PyFloat) return value.value;
  if (value instanceof PyDate || value instanceof PyDateTime) return value.isoformat();
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, PyValue>).map(([k, v]) => [k, toJson(v)]),
    );
  }
  return value;
}
