// `yaml.dump(value)` with PyYAML 6's default arguments, byte for byte, because OpenFL's
// federation_uuid is a hash of exactly that text. Covers what safe_load can produce (no tags are
// ever written). The emitter's column bookkeeping is kept because line folding depends on it.

import {
  isPyMapping,
  PlanYamlError,
  PyDate,
  PyDateTime,
  PyFloat,
  type PyValue,
} from "./py-values.js";
import { implicitTagOf } from "./pyyaml-load.js";

const WIDTH = 80; // best_width
const STEP = 2; // best_indent

/** The text `yaml.dump(value)` returns for the equivalent Python value. */
export function dumpPyYaml(value: PyValue): string {
  const out = new Emitter(findAnchors(value));
  out.node(value, { root: true, mapping: false, simpleKey: false }, null);
  out.indentTo(0);
  // A bare plain scalar leaves the document "open ended": PyYAML closes it with `...`.
  if (out.openEnded) {
    out.indicator("...", true);
    out.indentTo(0);
  }
  return out.text;
}

type Shared = PyValue[] | { [key: string]: PyValue } | PyDate | PyDateTime;

/** PyYAML anchors every object it meets twice (lists, dicts and dates; never str/int/float). */
function isShareable(value: PyValue): value is Shared {
  return typeof value === "object" && value !== null && !(value instanceof PyFloat);
}

/** Anchor names in PyYAML's order: numbered when a shared object is met the second time. */
function findAnchors(root: PyValue): Map<Shared, string> {
  const seen = new Set<Shared>();
  const anchors = new Map<Shared, string>();
  const visit = (value: PyValue): void => {
    if (!isShareable(value)) return;
    if (seen.has(value)) {
      if (!anchors.has(value)) anchors.set(value, `id${String(anchors.size + 1).padStart(3, "0")}`);
      return;
    }
    seen.add(value);
    if (Array.isArray(value)) for (const item of value) visit(item);
    else if (isPyMapping(value)) for (const key of sortedKeys(value)) visit(value[key] as PyValue);
  };
  visit(root);
  return anchors;
}

/** Python sorts str keys by code point; JS `<` compares UTF-16 units (wrong past U+FFFF). */
function sortedKeys(mapping: { [key: string]: PyValue }): string[] {
  return Object.keys(mapping).sort(compareCodePoints);
}

function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a.charCodeAt(i) !== b.charCodeAt(i)) {
      return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0);
    }
  }
  return a.length - b.length;
}

interface Context {
  root: boolean;
  /** The node is a mapping key or value (a block list there is not indented). */
  mapping: boolean;
  /** The node is a key written `key: value` (no folding; never empty or multi-line). */
  simpleKey: boolean;
}

type Style = "plain" | "single" | "double";

class Emitter {
  text = "";
  openEnded = false;
  private column = 0;
  /** The last character written is whitespace (no separating space needed). */
  private whitespace = true;
  /** Only indentation and `-`/`?`/`:` indicators so far on this line. */
  private indention = true;
  private readonly written = new Set<Shared>();

  constructor(private readonly anchors: Map<Shared, string>) {}

  node(value: PyValue, ctx: Context, indent: number | null): void {
    if (isShareable(value)) {
      const anchor = this.anchors.get(value);
      if (this.written.has(value)) {
        this.indicator(`*${anchor}`, true);
        return;
      }
      this.written.add(value);
      if (anchor) this.indicator(`&${anchor}`, true);
    }
    if (Array.isArray(value)) this.list(value, ctx, indent);
    else if (isPyMapping(value)) this.mapping(value, indent);
    else this.scalar(value, ctx, indent);
  }

  private scalar(value: PyValue, ctx: Context, indent: number | null): void {
    const scalarIndent = indent === null ? STEP : indent + STEP;
    const [text, isString] = scalarText(value);
    const style = chooseStyle(text, isString, ctx.simpleKey);
    if (style === "plain") {
      if (ctx.root) this.openEnded = true;
      this.plain(text, !ctx.simpleKey, scalarIndent);
    } else if (style === "single") this.singleQuoted(text, !ctx.simpleKey, scalarIndent);
    else this.doubleQuoted(text, !ctx.simpleKey, scalarIndent);
  }

  private list(items: PyValue[], ctx: Context, indent: number | null): void {
    if (items.length === 0) {
      this.emptyFlow("[", "]");
      return;
    }
    // `key:\n- a`: a list that is a mapping value stays at the mapping's indentation.
    const indentless = ctx.mapping && !this.indention;
    const inner = indent === null ? 0 : indentless ? indent : indent + STEP;
    for (const item of items) {
      this.indentTo(inner);
      this.indicator("-", true, false, true);
      this.node(item, { root: false, mapping: false, simpleKey: false }, inner);
    }
  }

  private mapping(mapping: { [key: string]: PyValue }, indent: number | null): void {
    const keys = sortedKeys(mapping);
    if (keys.length === 0) {
      this.emptyFlow("{", "}");
      return;
    }
    const inner = indent === null ? 0 : indent + STEP;
    const value = { root: false, mapping: true, simpleKey: false };
    for (const key of keys) {
      this.indentTo(inner);
      if (isSimpleKey(key)) {
        this.node(key, { root: false, mapping: true, simpleKey: true }, inner);
        this.indicator(":", false);
      } else {
        // Empty, multi-line or long keys are written as `? key` then `: value`.
        this.indicator("?", true, false, true);
        this.node(key, value, inner);
        this.indentTo(inner);
        this.indicator(":", true, false, true);
      }
      this.node(mapping[key] as PyValue, value, inner);
    }
  }

  private emptyFlow(open: string, close: string): void {
    this.indicator(open, true, true);
    this.indicator(close, false);
  }

  indicator(text: string, needSpace: boolean, whitespace = false, indention = false): void {
    this.write(this.whitespace || !needSpace ? text : ` ${text}`);
    this.whitespace = whitespace;
    this.indention = this.indention && indention;
    this.openEnded = false;
  }

  /** Moves to column `indent`, on a new line unless the current one is still only indentation. */
  indentTo(indent: number): void {
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) {
      this.lineBreak();
    }
    if (this.column < indent) {
      this.whitespace = true;
      this.write(" ".repeat(indent - this.column));
    }
  }

  private lineBreak(): void {
    this.text += "\n";
    this.column = 0;
    this.whitespace = true;
    this.indention = true;
  }

  /** Output is ASCII only (allow_unicode=False), so length is the column count. */
  private write(data: string): void {
    this.text += data;
    this.column += data.length;
  }

  /** Plain scalars never hold line breaks; a lone space past the width becomes a line break. */
  private plain(text: string, split: boolean, indent: number): void {
    if (!this.whitespace) this.write(" ");
    this.whitespace = false;
    this.indention = false;
    for (const run of text.match(/ +|[^ ]+/g) ?? []) {
      if (run === " " && split && this.column > WIDTH) {
        this.indentTo(indent);
        this.whitespace = false;
        this.indention = false;
      } else this.write(run);
    }
  }

  /**
   * Single quotes: `'` doubles, a line break is written as two (the first is folded away), and a
   * lone inner space past the width becomes a line break.
   */
  private singleQuoted(text: string, split: boolean, indent: number): void {
    this.indicator("'", true);
    const runs = text.match(/ +|\n+|[^ \n]+/g) ?? [];
    let position = 0;
    for (const run of runs) {
      const atEdge = position === 0 || position + run.length === text.length;
      if (run.startsWith("\n")) {
        for (let i = 0; i <= run.length; i++) this.lineBreak();
        this.indentTo(indent);
      } else if (run === " " && split && !atEdge && this.column > WIDTH) {
        this.indentTo(indent);
      } else this.write(run.replaceAll("'", "''"));
      position += run.length;
    }
    this.indicator("'", false);
  }

  /**
   * Double quotes: escapes for `"`, `\`, and everything outside printable ASCII; folding with a
   * trailing `\` when the line would pass the width at a space (or right after an escape), and a
   * `\` before a space that would otherwise start the continuation line.
   */
  private doubleQuoted(text: string, split: boolean, indent: number): void {
    this.indicator('"', true);
    const chars = Array.from(text);
    let start = 0;
    for (let end = 0; end <= chars.length; end++) {
      const ch = chars[end];
      if (ch === undefined || needsEscape(ch)) {
        this.write(chars.slice(start, end).join(""));
        if (ch !== undefined) {
          this.write(escapeChar(ch));
          start = end + 1;
        }
      }
      if (
        split &&
        end > 0 &&
        end < chars.length - 1 &&
        (ch === " " || start >= end) &&
        this.column + (end - start) > WIDTH
      ) {
        this.write(`${chars.slice(start, end).join("")}\\`);
        if (start < end) start = end;
        this.indentTo(indent);
        this.whitespace = false;
        this.indention = false;
        if (chars[start] === " ") this.write("\\");
      }
    }
    this.indicator('"', false);
  }
}

/** The scalar's text as PyYAML's representer writes it, and whether it is a Python str. */
function scalarText(value: PyValue): [string, boolean] {
  if (typeof value === "string") return [value, true];
  if (value === null) return ["null", false];
  if (typeof value === "boolean") return [value ? "true" : "false", false];
  if (typeof value === "bigint") return [pyIntText(value), false];
  if (typeof value === "number") {
    if (!Number.isInteger(value)) {
      throw new PlanYamlError(`cannot dump ${value}: a float must be a PyFloat, a number an int`);
    }
    return [pyIntText(BigInt(value)), false];
  }
  if (value instanceof PyFloat) return [pyFloatText(value.value), false];
  if (value instanceof PyDate || value instanceof PyDateTime) return [value.isoformat(), false];
  throw new PlanYamlError(`cannot dump a ${typeof value}`);
}

function pyIntText(value: bigint): string {
  const text = value.toString();
  // CPython's str(int) refuses more than 4300 digits, so yaml.dump raises there too.
  if (text.replace("-", "").length > 4300) {
    throw new PlanYamlError("cannot dump an int of more than 4300 digits (Python refuses too)");
  }
  return text;
}

/** represent_float: repr() lower-cased, `.0` before a bare exponent, `.inf`/`-.inf`/`.nan`. */
export function pyFloatText(x: number): string {
  if (Number.isNaN(x)) return ".nan";
  if (x === Number.POSITIVE_INFINITY) return ".inf";
  if (x === Number.NEGATIVE_INFINITY) return "-.inf";
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  const magnitude = Math.abs(x);
  if (magnitude === 0) return `${sign}0.0`;
  // Shortest round-trip digits, like repr(); then Python's layout: positional when the decimal
  // point falls within -4 < point <= 16, else d.ddde±XX.
  const [mantissa = "", exponent = "0"] = magnitude.toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const point = Number(exponent) + 1;
  let text: string;
  if (point > -4 && point <= 16) {
    if (point <= 0) text = `0.${"0".repeat(-point)}${digits}`;
    else if (point >= digits.length) text = `${digits}${"0".repeat(point - digits.length)}.0`;
    else text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  } else {
    const e = point - 1;
    const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : `${digits}.0`;
    text = `${head}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  return sign + text;
}

/** A `key: value` key: short (the `!!str` tag PyYAML counts in makes it < 123), one line. */
function isSimpleKey(key: string): boolean {
  return key !== "" && !/[\n\u0085\u2028\u2029]/.test(key) && Array.from(key).length + 5 < 128;
}

/** emitter.py's choose_scalar_style for block context, from analyze_scalar's facts. */
function chooseStyle(text: string, isString: boolean, simpleKey: boolean): Style {
  const a = analyze(text);
  // A str is plain only if PyYAML would read it back as a str; other types are their own text.
  const implicit = isString ? implicitTagOf(text) === "str" : true;
  if (implicit && a.plain) return "plain";
  if (!isString) throw new PlanYamlError(`internal: ${JSON.stringify(text)} cannot be plain`);
  if (a.single && !(simpleKey && a.multiline)) return "single";
  return "double";
}

const BREAKS = "\n\u0085\u2028\u2029";
const SPACE_OR_BREAK = `\0 \t\r${BREAKS}`;

function analyze(text: string): { plain: boolean; single: boolean; multiline: boolean } {
  if (text === "") return { plain: true, single: true, multiline: false };
  const chars = Array.from(text);
  let special = false;
  let multiline = false;
  let indicator = text.startsWith("---") || text.startsWith("...");
  let spaceThenBreak = false;
  let breakThenSpace = false;
  chars.forEach((ch, i) => {
    const next = chars[i + 1];
    const followedBySpace = next === undefined || SPACE_OR_BREAK.includes(next);
    if (i === 0) {
      if ("#,[]{}&*!|>'\"%@`".includes(ch)) indicator = true;
      if ((ch === "?" || ch === ":" || ch === "-") && followedBySpace) indicator = true;
    } else {
      const prev = chars[i - 1] as string;
      if (ch === ":" && followedBySpace) indicator = true;
      if (ch === "#" && SPACE_OR_BREAK.includes(prev)) indicator = true;
      if (ch === " " && BREAKS.includes(prev)) breakThenSpace = true;
      if (BREAKS.includes(ch) && prev === " ") spaceThenBreak = true;
    }
    if (BREAKS.includes(ch)) multiline = true;
    // allow_unicode=False: anything but LF and printable ASCII needs double quotes.
    if (ch !== "\n" && !(ch >= " " && ch <= "~")) special = true;
  });
  const first = chars[0] as string;
  const last = chars[chars.length - 1] as string;
  const edgeSpace =
    first === " " || last === " " || BREAKS.includes(first) || BREAKS.includes(last);
  return {
    plain: !special && !multiline && !edgeSpace && !indicator && !spaceThenBreak,
    single: !special && !spaceThenBreak && !breakThenSpace,
    multiline,
  };
}

function needsEscape(ch: string): boolean {
  return ch === '"' || ch === "\\" || ch === "\uFEFF" || !(ch >= " " && ch <= "~");
}

const ESCAPES: Record<string, string> = {
  "\0": "0",
  "\x07": "a",
  "\b": "b",
  "\t": "t",
  "\n": "n",
  "\v": "v",
  "\f": "f",
  "\r": "r",
  "\x1b": "e",
  '"': '"',
  "\\": "\\",
  "\u0085": "N",
  "\u00a0": "_",
  "\u2028": "L",
  "\u2029": "P",
};

function escapeChar(ch: string): string {
  const named = ESCAPES[ch];
  if (named) return `\\${named}`;
  const cp = ch.codePointAt(0) ?? 0;
  const hex = cp.toString(16).toUpperCase();
  if (cp <= 0xff) return `\\x${hex.padStart(2, "0")}`;
  if (cp <= 0xffff) return `\\u${hex.padStart(4, "0")}`;
  return `\\U${hex.padStart(8, "0")}`;
}
