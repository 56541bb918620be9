// The values `yaml.safe_load` produces, kept as distinct as Python keeps them, because
// `yaml.dump` (and so OpenFL's federation_uuid) depends on the Python type: `1` and `1.0`
// dump differently, a `date` dumps unquoted while the string "2001-12-14" is quoted.

/**
 * A loaded plan value. Python int is a `number` when it is a safe integer, else a `bigint`;
 * Python float is a {@link PyFloat}; mappings have string keys only.
 */
export type PyValue =
  | null
  | boolean
  | string
  | number
  | bigint
  | PyFloat
  | PyDate
  | PyDateTime
  | PyValue[]
  | { [key: string]: PyValue };

/** A Python float (a JS number would lose the int/float distinction). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A Python `datetime.date`, as safe_load builds it from `2001-12-14`. */
export class PyDate {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
  ) {}

  /** Python's `date.isoformat()`, which is what `yaml.dump` writes. */
  isoformat(): string {
    return `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`;
  }
}

/**
 * A Python `datetime.datetime`. `utcOffsetMinutes` is null for a naive datetime (no zone in
 * the text); `Z` loads as offset 0, exactly like `datetime.timezone.utc`.
 */
export class PyDateTime {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
    readonly hour: number,
    readonly minute: number,
    readonly second: number,
    readonly microsecond: number,
    readonly utcOffsetMinutes: number | null,
  ) {}

  /** Python's `datetime.isoformat(' ')`, which is what `yaml.dump` writes. */
  isoformat(): string {
    const date = `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`;
    let time = `${pad(this.hour, 2)}:${pad(this.minute, 2)}:${pad(this.second, 2)}`;
    if (this.microsecond !== 0) time += `.${pad(this.microsecond, 6)}`;
    if (this.utcOffsetMinutes !== null) {
      const sign = this.utcOffsetMinutes < 0 ? "-" : "+";
      const abs = Math.abs(this.utcOffsetMinutes);
      time += `${sign}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
    }
    return `${date} ${time}`;
  }
}

/** A plan that cannot be loaded (or dumped) the way PyYAML would; the message names the source. */
export class PlanYamlError extends Error {
  override name = "PlanYamlError";
}

/** True for a mapping value (a plain object, not one of the classes above). */
export function isPyMapping(value: PyValue): value is { [key: string]: PyValue } {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof PyFloat) &&
    !(value instanceof PyDate) &&
    !(value instanceof PyDateTime)
  );
}

/** Sets a mapping entry without tripping over `__proto__` (a legal plan key). */
export function setPyKey(mapping: { [key: string]: PyValue }, key: string, value: PyValue): void {
  Object.defineProperty(mapping, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}
