// `yaml.safe_load` as PyYAML 6 does it, so the collaborator reads a plan into the same Python
// values OpenFL hashes. The `yaml` package only supplies the syntax tree (failsafe schema: every
// scalar is text); what a scalar MEANS is decided here with PyYAML's YAML 1.1 rules, which differ
// from YAML 1.2 (`yes` is a bool, `0777` octal, `1:20` is 80, `1e5` is a string).
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  Parser,
  Composer as YamlComposer,
} from "yaml";
import {
  isPyMapping,
  PlanYamlError,
  PyDate,
  PyDateTime,
  PyFloat,
  type PyValue,
  setPyKey,
} from "./py-values.js";

const TAG = "tag:yaml.org,2002:";

// PyYAML's implicit resolvers (resolver.py), with `\n?$` because Python's `$` also matches
// before a final newline: `! "1\n"` is an int there.
const IMPLICIT: readonly [string, RegExp][] = [
  ["bool", /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)\n?$/],
  [
    "float",
    /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\n?$/,
  ],
  [
    "int",
    /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)\n?$/,
  ],
  ["merge", /^<<\n?$/],
  ["null", /^(?:~|null|Null|NULL|)\n?$/],
  [
    "timestamp",
    /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9]{2})?))?)\n?$/,
  ],
  ["value", /^=\n?$/],
  ["yaml", /^[!&*]\n?$/],
];

/** The tag (`tag:yaml.org,2002:` suffix) PyYAML gives an untagged plain scalar with this text. */
export function implicitTagOf(text: string): string {
  for (const [tag, pattern] of IMPLICIT) if (pattern.test(text)) return tag;
  return "str";
}

/** A node after composition: aliases are shared objects, every tag is resolved. */
type PNode =
  | { kind: "scalar"; tag: string; value: string; offset: number }
  | { kind: "seq"; tag: string; items: PNode[]; offset: number }
  | { kind: "map"; tag: string; pairs: [PNode, PNode][]; offset: number };

/** What `yaml.safe_load(text)` returns; throws {@link PlanYamlError} naming `source` and the line. */
export function loadPyYaml(text: string, source: string): PyValue {
  const normalized = checkCharacters(text, source);
  const lines = new LineCounter();
  const tokens = Array.from(new Parser(lines.addNewLine).parse(normalized));
  const composer = new YamlComposer({
    schema: "failsafe",
    resolveKnownTags: false, // `!!timestamp`, `!!set`... are decided here, not turned into JS types
    uniqueKeys: false,
  });
  const docs = Array.from(composer.compose(tokens));
  const at = (offset: number) => `${source}:${lines.linePos(offset).line}`;
  const end = /^\uFEFF?(?:[ \t]*(?:#.*)?\n)*\.\.\.(?=[ \t\n]|$)/.exec(normalized);
  if (end) {
    // PyYAML wants a node before the first `...`; the `yaml` package reads it as an empty document.
    throw new PlanYamlError(
      `${at(end[0].length - 3)}: document end marker "..." before any content`,
    );
  }
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) throw new PlanYamlError(`${at(error.pos[0])}: invalid YAML: ${error.message}`);
  }
  const tab = tabOutsideScalars(tokens);
  if (tab !== undefined) {
    throw new PlanYamlError(
      `${at(tab)}: a tab outside a quoted or block scalar or a comment; PyYAML accepts only spaces there`,
    );
  }
  if (docs.length > 1) {
    const second = docs[1]?.range[0] ?? 0;
    throw new PlanYamlError(
      `${at(second)}: expected a single document in the stream, found another one here`,
    );
  }
  const root = docs[0]?.contents;
  if (!root) return null;
  const node = new Composer(at).compose(root);
  const builder = new Constructor(at);
  const value = builder.construct(node);
  builder.refuseNonStringKeys(value);
  return value;
}

/**
 * PyYAML refuses non-printable characters anywhere and treats CR, CRLF and NEL as line breaks
 * (YAML 1.1); the `yaml` package would not, so they are normalised to LF here. LS/PS are refused:
 * PyYAML keeps them in content as line breaks, which no YAML 1.2 parser reproduces.
 */
function checkCharacters(text: string, source: string): string {
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i) ?? 0;
    if (cp > 0xffff) i++;
    // Lines as PyYAML counts them: LF, CRLF, lone CR and NEL each end one.
    if (cp === 0x0a || cp === 0x85 || (cp === 0x0d && text[i + 1] !== "\n")) line++;
    const printable =
      cp === 0x09 ||
      cp === 0x0a ||
      cp === 0x0d ||
      (cp >= 0x20 && cp <= 0x7e) ||
      cp === 0x85 ||
      (cp >= 0xa0 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      cp >= 0x10000;
    if (!printable) {
      const hex = cp.toString(16).padStart(4, "0");
      throw new PlanYamlError(`${source}:${line}: unacceptable character #x${hex}: not printable`);
    }
    if (cp === 0x2028 || cp === 0x2029) {
      throw new PlanYamlError(
        `${source}:${line}: raw U+${cp.toString(16).toUpperCase()} line separator; write it as an escape in a double-quoted string`,
      );
    }
  }
  return text.replace(/\r\n?|\u0085/g, "\n");
}

/**
 * PyYAML's scanner skips only spaces between tokens and ends a plain scalar at a tab, so a tab
 * anywhere but inside quotes, block scalars and comments is an error there (the `yaml` package
 * takes it as whitespace). Returns the offset of the first such tab in the CST.
 */
function tabOutsideScalars(token: unknown): number | undefined {
  if (typeof token !== "object" || token === null) return undefined;
  const { type, source, offset } = token as { type?: unknown; source?: unknown; offset?: unknown };
  if ((type === "space" || type === "scalar") && typeof source === "string") {
    const at = source.indexOf("\t");
    if (at >= 0 && typeof offset === "number") return offset + at;
  }
  for (const child of Object.values(token)) {
    const found = tabOutsideScalars(child);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Builds PNodes from the syntax tree: anchors, aliases, tag resolution (composer.py's job). */
class Composer {
  private readonly anchors = new Map<string, PNode>();

  constructor(private readonly at: (offset: number) => string) {}

  compose(node: unknown, flow = false): PNode {
    if (node === null || node === undefined) return emptyScalar(0);
    if (isAlias(node)) {
      const target = this.anchors.get(node.source);
      if (!target) {
        throw new PlanYamlError(
          `${this.at(node.range?.[0] ?? 0)}: undefined alias *${node.source}`,
        );
      }
      return target;
    }
    const n = node as Node;
    const offset = n.range?.[0] ?? 0;
    if (isScalar(n)) {
      const value = n.source ?? (typeof n.value === "string" ? n.value : "");
      const plain = n.type === "PLAIN" || n.type === undefined;
      if (plain && flow && value.includes("?")) {
        // PyYAML ends a flow plain scalar at `?` and then finds a stray key indicator.
        throw new PlanYamlError(
          `${this.at(offset)}: "?" inside the plain scalar ${JSON.stringify(value)} in a flow collection; PyYAML cannot parse it (quote it)`,
        );
      }
      const tag = scalarTag(n.tag, plain, value);
      return this.anchor(n.anchor, offset, { kind: "scalar", tag, value, offset });
    }
    if (isSeq(n)) {
      const seq: PNode = { kind: "seq", tag: collectionTag(n.tag, "seq"), items: [], offset };
      this.anchor(n.anchor, offset, seq);
      const inFlow = flow || n.flow === true;
      for (const item of n.items) {
        // `[a: 1]` is a sequence holding a one-pair mapping.
        seq.items.push(
          isPair(item) ? this.singlePairMap(item, offset, inFlow) : this.compose(item, inFlow),
        );
      }
      return seq;
    }
    if (isMap(n)) {
      const map: PNode = { kind: "map", tag: collectionTag(n.tag, "map"), pairs: [], offset };
      this.anchor(n.anchor, offset, map);
      const inFlow = flow || n.flow === true;
      for (const pair of n.items) {
        map.pairs.push([this.compose(pair.key, inFlow), this.composeValue(pair, inFlow)]);
      }
      return map;
    }
    throw new PlanYamlError(`${this.at(offset)}: unexpected YAML node`);
  }

  private composeValue(pair: { key: unknown; value: unknown }, flow: boolean): PNode {
    const keyEnd = (pair.key as Node | null)?.range?.[1] ?? 0;
    return pair.value === null || pair.value === undefined
      ? emptyScalar(keyEnd)
      : this.compose(pair.value, flow);
  }

  private singlePairMap(pair: { key: unknown; value: unknown }, offset: number, flow: boolean) {
    const map: PNode = { kind: "map", tag: `${TAG}map`, pairs: [], offset };
    map.pairs.push([this.compose(pair.key, flow), this.composeValue(pair, flow)]);
    return map;
  }

  private anchor(name: string | undefined, offset: number, node: PNode): PNode {
    if (name === undefined) return node;
    if (this.anchors.has(name)) {
      throw new PlanYamlError(`${this.at(offset)}: duplicate anchor &${name}`);
    }
    this.anchors.set(name, node);
    return node;
  }
}

/** PyYAML resolves untagged plain scalars, and any scalar tagged `!` (even a quoted one). */
function scalarTag(tag: string | undefined, plain: boolean, value: string): string {
  if (tag === "!" || (!tag && plain)) return TAG + implicitTagOf(value);
  return tag || `${TAG}str`;
}

function emptyScalar(offset: number): PNode {
  return { kind: "scalar", tag: `${TAG}null`, value: "", offset };
}

function collectionTag(tag: string | undefined, kind: "seq" | "map"): string {
  return !tag || tag === "!" ? TAG + kind : tag;
}

/** Turns PNodes into PyValues (constructor.py's SafeConstructor, minus what plans never need). */
class Constructor {
  private readonly built = new Map<PNode, PyValue>();
  private readonly flattened = new Map<PNode, [PNode, PNode][]>();
  private readonly flattening = new Set<PNode>();
  /** Mappings that had a non-string key, refused only if they survive (a later duplicate
   * key can drop them, as it does in PyYAML). */
  private readonly badKeys = new Map<PyValue, PlanYamlError>();

  constructor(private readonly at: (offset: number) => string) {}

  construct(node: PNode): PyValue {
    const done = this.built.get(node);
    if (done !== undefined) return done;
    if (node.kind === "seq") {
      if (node.tag !== `${TAG}seq`) this.refuseTag(node);
      const list: PyValue[] = [];
      this.built.set(node, list); // before the items, so a recursive alias finds it
      for (const item of node.items) list.push(this.construct(item));
      return list;
    }
    if (node.kind === "map") {
      if (node.tag !== `${TAG}map`) this.refuseTag(node);
      const mapping: { [key: string]: PyValue } = {};
      this.built.set(node, mapping);
      for (const [key, value] of this.flatten(node)) {
        const name = this.constructKey(key);
        const item = this.construct(value);
        if (typeof name === "string") setPyKey(mapping, name, item);
        else if (!this.badKeys.has(mapping)) this.badKeys.set(mapping, name);
      }
      return mapping;
    }
    const value = this.scalar(node);
    this.built.set(node, value);
    return value;
  }

  private scalar(node: PNode & { kind: "scalar" }): PyValue {
    const where = this.at(node.offset);
    const text = node.value;
    switch (node.tag) {
      case `${TAG}str`:
        return text;
      case `${TAG}null`:
        return null; // PyYAML ignores the text of a `!!null` scalar
      case `${TAG}bool`: {
        const lower = text.toLowerCase();
        if (lower in BOOLS) return BOOLS[lower] as boolean;
        throw new PlanYamlError(`${where}: ${JSON.stringify(text)} is not a bool`);
      }
      case `${TAG}int`:
        return pyInt(text, where);
      case `${TAG}float`:
        return new PyFloat(pyFloat(text, where));
      case `${TAG}timestamp`:
        return pyTimestamp(text, where);
      case `${TAG}merge`:
      case `${TAG}value`:
        throw new PlanYamlError(
          `${where}: ${JSON.stringify(text)} is only meaningful as a mapping key (PyYAML cannot construct it as a value)`,
        );
      default:
        return this.refuseTag(node);
    }
  }

  /** Throws the first non-string key error of a mapping reachable from `root`. */
  refuseNonStringKeys(root: PyValue): void {
    const seen = new Set<PyValue>();
    const visit = (value: PyValue): void => {
      if (typeof value !== "object" || value === null || seen.has(value)) return;
      seen.add(value);
      const error = this.badKeys.get(value);
      if (error) throw error;
      if (Array.isArray(value)) value.forEach(visit);
      else if (isPyMapping(value)) Object.values(value).forEach(visit);
    };
    visit(root);
  }

  /** The key's string, or the error for a scalar key that is not a str (collections throw:
   * PyYAML refuses unhashable keys at once). */
  private constructKey(node: PNode): string | PlanYamlError {
    const where = this.at(node.offset);
    if (node.kind !== "scalar") {
      throw new PlanYamlError(`${where}: mapping key is a ${node.kind}; plan keys must be strings`);
    }
    if (node.tag === `${TAG}value`) return node.value; // `=` as a key is the string "="
    const key = this.construct(node);
    if (typeof key === "string") return key;
    return new PlanYamlError(
      `${where}: mapping key ${JSON.stringify(node.value)} loads as ${describe(key)}, not a string; plan keys must be strings (quote it)`,
    );
  }

  /**
   * The pairs of a mapping with `<<` merge keys expanded: merged pairs first, the mapping's own
   * after (so they win). PyYAML 6.0.4 deduplicates merged keys by Python object identity of the key
   * text, so when two merged mappings share a key the winner depends on CPython string caching;
   * that case is refused rather than guessed.
   */
  private flatten(node: PNode & { kind: "map" }): [PNode, PNode][] {
    const cached = this.flattened.get(node);
    if (cached) return cached;
    if (this.flattening.has(node)) {
      throw new PlanYamlError(`${this.at(node.offset)}: a mapping merges itself (<<)`);
    }
    this.flattening.add(node);
    const merged: [PNode, PNode][] = [];
    const own: [PNode, PNode][] = [];
    const seen = new Set<PNode>();
    const byText = new Map<string, PNode>();
    for (const [key, value] of node.pairs) {
      if (key.kind !== "scalar" || key.tag !== `${TAG}merge`) {
        own.push([key, value]);
        continue;
      }
      for (const source of this.mergeSources(value)) {
        for (const pair of this.flatten(source)) {
          if (seen.has(pair[0])) continue;
          seen.add(pair[0]);
          const text = pair[0].kind === "scalar" ? `${pair[0].tag}\0${pair[0].value}` : undefined;
          if (text !== undefined && byText.has(text)) {
            const name = pair[0].kind === "scalar" ? pair[0].value : "";
            throw new PlanYamlError(
              `${this.at(pair[0].offset)}: key ${JSON.stringify(name)} is merged (<<) from more than one place; PyYAML's result depends on string identity there, so it is refused`,
            );
          }
          if (text !== undefined) byText.set(text, pair[0]);
          merged.push(pair);
        }
      }
    }
    const result = [...merged, ...own];
    this.flattening.delete(node);
    this.flattened.set(node, result);
    return result;
  }

  private mergeSources(value: PNode): (PNode & { kind: "map" })[] {
    if (value.kind === "map") return [value];
    if (value.kind === "seq") {
      return value.items.map((item) => {
        if (item.kind !== "map") {
          throw new PlanYamlError(
            `${this.at(item.offset)}: expected a mapping for merging (<<), found a ${item.kind}`,
          );
        }
        return item;
      });
    }
    throw new PlanYamlError(
      `${this.at(value.offset)}: expected a mapping or list of mappings for merging (<<), found a scalar`,
    );
  }

  private refuseTag(node: PNode): never {
    const shown = node.tag.startsWith(TAG) ? `!!${node.tag.slice(TAG.length)}` : node.tag;
    throw new PlanYamlError(
      `${this.at(node.offset)}: tag ${shown} on a ${node.kind} is not supported in plans (expected plain data: str, int, float, bool, null, timestamp, seq, map)`,
    );
  }
}

const BOOLS: Record<string, boolean> = {
  yes: true,
  no: false,
  true: true,
  false: false,
  on: true,
  off: false,
};

function describe(value: PyValue): string {
  if (value === null) return "None";
  if (typeof value === "boolean") return `bool ${value ? "True" : "False"}`;
  if (typeof value === "number" || typeof value === "bigint") return `int ${value}`;
  if (value instanceof PyFloat) return `float ${value.value}`;
  if (value instanceof PyDate || value instanceof PyDateTime)
    return `timestamp ${value.isoformat()}`;
  return "a collection";
}

/** construct_yaml_int: sign, then 0b / 0x / leading-0 octal / base-60 / decimal. */
function pyInt(text: string, where: string): number | bigint {
  let digits = text.replaceAll("_", "");
  const negative = digits.startsWith("-");
  if (digits.startsWith("-") || digits.startsWith("+")) digits = digits.slice(1);
  const fail = () => new PlanYamlError(`${where}: ${JSON.stringify(text)} is not an int`);
  if (digits === "") throw fail();
  let magnitude: bigint;
  if (digits === "0") magnitude = 0n;
  else if (digits.startsWith("0b")) magnitude = pythonInt(digits.slice(2), 2, fail);
  else if (digits.startsWith("0x")) magnitude = pythonInt(digits.slice(2), 16, fail);
  else if (digits.startsWith("0")) magnitude = pythonInt(digits, 8, fail);
  else if (digits.includes(":")) {
    magnitude = 0n;
    for (const part of digits.split(":")) magnitude = magnitude * 60n + pythonInt(part, 10, fail);
  } else magnitude = pythonInt(digits, 10, fail);
  const value = negative ? -magnitude : magnitude;
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

const PREFIX: Record<number, string> = { 2: "0b", 8: "0o", 16: "0x" };
const DIGITS: Record<number, RegExp> = {
  2: /^[01]+$/,
  8: /^[0-7]+$/,
  10: /^[0-9]+$/,
  16: /^[0-9a-f]+$/i,
};

/** Python's `int(s, base)` for ASCII text (whitespace, sign, optional base prefix). */
function pythonInt(s: string, base: number, fail: () => Error): bigint {
  let t = s.trim();
  let negative = false;
  if (t.startsWith("-") || t.startsWith("+")) {
    negative = t.startsWith("-");
    t = t.slice(1);
  }
  const prefix = PREFIX[base];
  if (prefix && t.toLowerCase().startsWith(prefix)) t = t.slice(2);
  if (!DIGITS[base]?.test(t)) throw fail();
  // CPython refuses decimal text over 4300 digits (sys.int_info.str_digits_check_threshold).
  if (base === 10 && t.length > 4300) throw fail();
  const magnitude = base === 10 ? BigInt(t) : BigInt(`${prefix}${t}`);
  return negative ? -magnitude : magnitude;
}

/** construct_yaml_float: `_` dropped, lower-cased, `.inf` / `.nan` / base-60 / Python float(). */
function pyFloat(text: string, where: string): number {
  let body = text.replaceAll("_", "").toLowerCase();
  const sign = body.startsWith("-") ? -1 : 1;
  if (body.startsWith("-") || body.startsWith("+")) body = body.slice(1);
  const fail = () => new PlanYamlError(`${where}: ${JSON.stringify(text)} is not a float`);
  if (body === "") throw fail();
  if (body === ".inf") return sign * Number.POSITIVE_INFINITY;
  if (body === ".nan") return Number.NaN;
  if (body.includes(":")) {
    // Same operations in the same order as PyYAML, so the rounding is the same.
    let value = 0;
    let base = 1;
    for (const part of body.split(":").reverse()) {
      value += pythonFloat(part, fail) * base;
      base *= 60;
    }
    return sign * value;
  }
  return sign * pythonFloat(body, fail);
}

/** Python's `float(s)` for lower-cased ASCII text. */
function pythonFloat(s: string, fail: () => Error): number {
  const t = s.trim();
  const match =
    /^([-+]?)(?:(\d+\.?\d*(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?)|(inf|infinity)|(nan))$/.exec(t);
  if (!match) throw fail();
  const negative = match[1] === "-";
  if (match[3]) return negative ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (match[4]) return Number.NaN;
  const magnitude = Number(match[2]);
  return negative ? -magnitude : magnitude;
}

const TIMESTAMP =
  /^([0-9]{4})-([0-9][0-9]?)-([0-9][0-9]?)(?:(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9]{2}))?))?)?\n?$/;

/** construct_yaml_timestamp, with the range checks Python's date/datetime/timezone make. */
function pyTimestamp(text: string, where: string): PyDate | PyDateTime {
  const m = TIMESTAMP.exec(text);
  if (!m) throw new PlanYamlError(`${where}: ${JSON.stringify(text)} is not a timestamp`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const bad = (what: string) =>
    new PlanYamlError(`${where}: timestamp ${JSON.stringify(text)}: ${what} out of range`);
  if (year < 1) throw bad("year");
  if (month < 1 || month > 12) throw bad("month");
  if (day < 1 || day > daysInMonth(year, month)) throw bad("day");
  if (m[4] === undefined) return new PyDate(year, month, day);
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (hour > 23) throw bad("hour");
  if (minute > 59) throw bad("minute");
  if (second > 59) throw bad("second");
  // Fraction: first six digits, right-padded (so 0.0000001 s is exactly 0).
  const microsecond = m[7] ? Number(m[7].slice(0, 6).padEnd(6, "0")) : 0;
  let offset: number | null = null;
  if (m[9]) {
    const minutes = Number(m[10]) * 60 + Number(m[11] ?? 0);
    offset = m[9] === "-" ? -minutes : minutes;
    if (Math.abs(offset) >= 24 * 60) throw bad("UTC offset");
    if (offset === 0) offset = 0; // -00:00 is +00:00 in Python
  } else if (m[8]) {
    offset = 0;
  }
  return new PyDateTime(year, month, day, hour, minute, second, microsecond, offset);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
