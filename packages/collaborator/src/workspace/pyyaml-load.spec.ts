// What yaml.safe_load makes of the tricky scalars and structures, written out from PyYAML 6.0.4's
// answers (no Python needed; pyyaml.interop.spec.ts asks PyYAML itself).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PlanYamlError, PyDate, PyDateTime, PyFloat, type PyValue } from "./py-values.js";
import { loadPyYaml } from "./pyyaml-load.js";

const load = (text: string) => loadPyYaml(text, "plan.yaml");

describe("loadPyYaml", () => {
  it("resolves plain scalars with YAML 1.1's rules as PyYAML has them", () => {
    const text = [
      "a: yes",
      "b: No",
      "c: on",
      "d: 0x1F",
      "e: 017",
      "f: 0b101",
      "g: 1_000",
      "h: 1:20",
      "i: 1e5",
      "j: 1.0e+5",
      "k: .inf",
      "l: -.Inf",
      "m: .NaN",
      "n: ~",
      "o:",
      "p: 2001-12-14",
      "q: 08",
      "r: -.5",
      "s: 12345678901234567890",
      "t: '123'",
      "u: 190:20:30.15",
      "v: 1.0",
      "w: yEs",
      "x: 0o17",
      "y: -0",
      "z: 1.0e5",
    ].join("\n");
    assert.deepEqual(load(text), {
      a: true,
      b: false,
      c: true,
      d: 31,
      e: 15,
      f: 5,
      g: 1000,
      h: 80,
      i: "1e5",
      j: new PyFloat(100000),
      k: new PyFloat(Infinity),
      l: new PyFloat(-Infinity),
      m: new PyFloat(NaN),
      n: null,
      o: null,
      p: new PyDate(2001, 12, 14),
      q: "08",
      r: "-.5",
      s: 12345678901234567890n,
      t: "123",
      u: new PyFloat(685230.15),
      v: new PyFloat(1),
      w: "yEs",
      x: "0o17",
      y: 0,
      z: "1.0e5",
    });
  });

  it("loads timestamps as date or datetime, with the fraction cut to microseconds", () => {
    const text = [
      "- 2001-12-14t21:59:43.10-05:00",
      "- 2001-12-14 21:59:43.0000001 Z",
      "- 2001-12-14 1:02:03",
      "- !!timestamp 2001-1-2",
      "- 2001-1-2",
    ].join("\n");
    assert.deepEqual(load(text), [
      new PyDateTime(2001, 12, 14, 21, 59, 43, 100000, -300),
      new PyDateTime(2001, 12, 14, 21, 59, 43, 0, 0),
      new PyDateTime(2001, 12, 14, 1, 2, 3, 0, null),
      new PyDate(2001, 1, 2),
      "2001-1-2",
    ]);
    assert.throws(() => load("d: 2001-02-29\n"), /plan\.yaml:1: .*day out of range/);
  });

  it("honours explicit tags, and the non-specific ! that resolves like a plain scalar", () => {
    const text =
      "a: !!str 123\nb: !!float 1e-4\nc: ! '12'\nd: !!null x\ne: !!int \"0x_1F\"\nf: !!bool ON";
    assert.deepEqual(load(text), {
      a: "123",
      b: new PyFloat(0.0001),
      c: 12,
      d: null,
      e: 31,
      f: true,
    });
    assert.throws(() => load("x: !!binary aGk=\n"), /tag !!binary on a scalar is not supported/);
  });

  it("keeps the last of duplicate keys; `=` and `__proto__` are ordinary keys", () => {
    const value = load("a: 1\na: 2\n=: 3\n__proto__: 4\n") as { [key: string]: PyValue };
    assert.deepEqual(Object.entries(value), [
      ["a", 2],
      ["=", 3],
      ["__proto__", 4],
    ]);
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
  });

  it("shares aliased objects (so the dump anchors them), even recursively", () => {
    const value = load("a: &x [1]\nb: *x\nc: &self\n  me: *self\n") as {
      [key: string]: PyValue;
    };
    assert.equal(value.a, value.b);
    const c = value.c as { [key: string]: PyValue };
    assert.equal(c.me, c);
  });

  it("merges << keys (own keys win) and refuses merges whose result hangs on string identity", () => {
    assert.deepEqual(load("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n"), {
      base: { x: 1, y: 2 },
      c: { x: 1, y: 3 },
    });
    assert.throws(
      () => load("a: &a {x: 1}\nb: &b {x: 2}\nc: {<<: [*a, *b]}\n"),
      /plan\.yaml:\d+: key "x" is merged \(<<\) from more than one place/,
    );
  });

  it("refuses non-string keys, naming the key and the line", () => {
    assert.throws(
      () => load("a: 1\n1: x\n"),
      (error: unknown) =>
        error instanceof PlanYamlError &&
        /plan\.yaml:2: mapping key "1" loads as int 1, not a string/.test(error.message),
    );
    assert.throws(() => load("yes: 1\n"), /key "yes" loads as bool True/);
    // A later duplicate key drops the offending mapping, as it does in PyYAML.
    assert.deepEqual(load("a: {1: x}\na: 2\n"), { a: 2 });
  });

  it("reads an empty document as null and refuses several documents", () => {
    assert.equal(load(""), null);
    assert.equal(load("# only a comment\n"), null);
    assert.equal(load("---\n"), null);
    assert.throws(() => load("a: 1\n---\nb: 2\n"), /plan\.yaml:2: expected a single document/);
  });

  it("names the source and line of syntax errors and bad characters", () => {
    assert.throws(() => load("a: 1\nb: [1, 2\n"), /^PlanYamlError: plan\.yaml:\d+: invalid YAML/);
    assert.throws(() => load("a: 1\nb: \u0001\n"), /plan\.yaml:2: unacceptable character #x0001/);
    assert.throws(() => load("a: *nope\n"), /plan\.yaml:1: undefined alias \*nope/);
  });

  it("refuses tabs outside quoted and block scalars and comments, as PyYAML's scanner does", () => {
    assert.throws(
      () => load("a: 1\nb:\t2\n"),
      /plan\.yaml:2: a tab outside a quoted or block scalar/,
    );
    assert.throws(() => load("a: b\tc\n"), /plan\.yaml:1: a tab/);
    assert.deepEqual(load("a: 'x\ty' # \t\nb: |\n  \tz\n"), { a: "x\ty", b: "\tz\n" });
  });

  it("refuses ? inside a plain scalar in a flow collection (PyYAML reads a key indicator)", () => {
    assert.throws(() => load("a: [b?c]\n"), /plan\.yaml:1: "\?" inside the plain scalar "b\?c"/);
    assert.deepEqual(load("a: b?c\n"), { a: "b?c" });
  });

  it("treats CR, CRLF and NEL as line breaks, like PyYAML", () => {
    assert.deepEqual(load("a: 1\r\nb: 2\rc: 3\u0085d: 4\n"), { a: 1, b: 2, c: 3, d: 4 });
  });
});
