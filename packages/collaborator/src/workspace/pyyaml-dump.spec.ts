// The dump rules that surprise, with PyYAML 6.0.4's exact output written out (no Python needed;
// pyyaml.interop.spec.ts checks the same against PyYAML itself).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planHash } from "./plan-hash.js";
import { PyDate, PyDateTime, PyFloat, type PyValue } from "./py-values.js";
import { dumpPyYaml } from "./pyyaml-dump.js";

describe("dumpPyYaml", () => {
  it("sorts keys, keeps a list under a key at the key's indentation, writes {} and []", () => {
    assert.equal(
      dumpPyYaml({ b: [1, { y: 2, x: [] }], a: {} }),
      "a: {}\nb:\n- 1\n- x: []\n  y: 2\n",
    );
  });

  it("sorts keys by code point, not UTF-16 unit (U+FF01 before U+1F600)", () => {
    assert.equal(
      dumpPyYaml({ "😀": 2, "！": 1, a: 3, B: 4 }),
      'B: 4\na: 3\n"\\uFF01": 1\n"\\U0001F600": 2\n',
    );
  });

  it("closes a bare plain scalar document with ...", () => {
    assert.equal(dumpPyYaml(1), "1\n...\n");
    assert.equal(dumpPyYaml("abc"), "abc\n...\n");
    assert.equal(dumpPyYaml(null), "null\n...\n");
    assert.equal(dumpPyYaml("123"), "'123'\n");
    assert.equal(dumpPyYaml([]), "[]\n");
    assert.equal(dumpPyYaml({}), "{}\n");
  });

  it("quotes strings that would load as another type, and only those", () => {
    const strings = ["123", "true", "", "1.0", "null", "~", "2001-12-14", "yes", "1e5", "0o17"];
    strings.push("=", "<<", "1:20", "Yes", "yEs", "-.5", ".5");
    assert.equal(
      dumpPyYaml(strings),
      "- '123'\n- 'true'\n- ''\n- '1.0'\n- 'null'\n- '~'\n- '2001-12-14'\n- 'yes'\n- 1e5\n- 0o17\n" +
        "- '='\n- '<<'\n- '1:20'\n- 'Yes'\n- yEs\n- -.5\n- '.5'\n",
    );
  });

  it("quotes indicators only where they are indicators", () => {
    const strings = ["- a", "-a", "?a", "? a", ":a", "a: b", "a #b", "a#b", "#a", "!a", "&a", "*a"];
    strings.push("%a", "@a", "`a", "[a", "a,b", "---a", "...", " a", "a ", "a:", "a:b", "-");
    assert.equal(
      dumpPyYaml(strings),
      "- '- a'\n- -a\n- ?a\n- '? a'\n- :a\n- 'a: b'\n- 'a #b'\n- a#b\n- '#a'\n- '!a'\n- '&a'\n" +
        "- '*a'\n- '%a'\n- '@a'\n- '`a'\n- '[a'\n- a,b\n- '---a'\n- '...'\n- ' a'\n- 'a '\n- 'a:'\n" +
        "- a:b\n- '-'\n",
    );
  });

  it("writes floats as repr() does, with .0 before a bare exponent", () => {
    const floats = [1, 1e16, 1e-5, 1e20, 123456789.123, -0, Infinity, -Infinity, NaN, 0.1, 1e15];
    assert.equal(
      dumpPyYaml([...floats, 0.0001].map((x) => new PyFloat(x))),
      "- 1.0\n- 1.0e+16\n- 1.0e-05\n- 1.0e+20\n- 123456789.123\n- -0.0\n- .inf\n- -.inf\n- .nan\n" +
        "- 0.1\n- 1000000000000000.0\n- 0.0001\n",
    );
  });

  it("writes ints of any size, and never a JS float as an int", () => {
    assert.equal(dumpPyYaml([2n ** 64n, -5, 0]), "- 18446744073709551616\n- -5\n- 0\n");
    assert.throws(() => dumpPyYaml(1.5), /PyFloat/);
  });

  it("folds long plain, single- and double-quoted strings at width 80", () => {
    const words = (w: string) => Array(20).fill(w).join(" ");
    assert.equal(
      dumpPyYaml({ plain: words("word"), single: words("it's"), double: words("café") }),
      'double: "caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9\\\n' +
        '  \\ caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9 caf\\xE9"\n' +
        "plain: word word word word word word word word word word word word word word word\n" +
        "  word word word word word\n" +
        "single: it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's\n" +
        "  it's it's it's it's it's\n",
    );
  });

  it("escapes everything outside printable ASCII (allow_unicode=False)", () => {
    assert.equal(
      dumpPyYaml('é\t\u0001😀\u0085\u00a0\ufeff"\\'),
      '"\\xE9\\t\\x01\\U0001F600\\N\\_\\uFEFF\\"\\\\"\n',
    );
  });

  it("writes multi-line strings single-quoted with doubled breaks, or double-quoted", () => {
    assert.equal(
      dumpPyYaml({ multi: "a\nb", space_break: "a \nb", break_space: "a\n b" }),
      'break_space: "a\\n b"\nmulti: \'a\n\n  b\'\nspace_break: "a \\nb"\n',
    );
  });

  it("writes empty, multi-line and long (123+ code points) keys as ? key / : value", () => {
    assert.equal(dumpPyYaml({ "a\nb": 1, "": 2 }), "? ''\n: 2\n? 'a\n\n  b'\n: 1\n");
    assert.equal(dumpPyYaml({ [`${"k".repeat(122)}`]: 1 }), `${"k".repeat(122)}: 1\n`);
    assert.equal(dumpPyYaml({ [`${"k".repeat(123)}`]: [1] }), `? ${"k".repeat(123)}\n: - 1\n`);
  });

  it("anchors shared lists, mappings and dates (not strings), numbered at the second sight", () => {
    const list: PyValue[] = [1];
    const date = new PyDate(2001, 12, 14);
    assert.equal(
      dumpPyYaml({ x: list, y: list, d1: date, d2: date, s1: "s", s2: "s" }),
      "d1: &id001 2001-12-14\nd2: *id001\ns1: s\ns2: s\nx: &id002\n- 1\ny: *id002\n",
    );
    const self: { [key: string]: PyValue } = {};
    self.self = self;
    assert.equal(dumpPyYaml(self), "&id001\nself: *id001\n");
  });

  it("writes datetimes as isoformat(' ')", () => {
    assert.equal(
      dumpPyYaml([
        new PyDateTime(2001, 12, 14, 21, 59, 43, 100000, -300),
        new PyDateTime(2001, 1, 2, 3, 4, 5, 0, 0),
        new PyDateTime(2001, 1, 2, 3, 4, 5, 0, null),
      ]),
      "- 2001-12-14 21:59:43.100000-05:00\n- 2001-01-02 03:04:05+00:00\n- 2001-01-02 03:04:05\n",
    );
  });

  it("keeps __proto__ as an ordinary key", () => {
    const value = JSON.parse('{"__proto__": {"constructor": 1}}') as PyValue;
    assert.equal(dumpPyYaml(value), "__proto__:\n  constructor: 1\n");
  });

  it("hashes the dump with sha384", () => {
    // hashlib.sha384(yaml.dump({'a': 1}).encode('utf-8')).hexdigest()
    assert.equal(
      planHash({ a: 1 }),
      "eeff291a1b7a024bef878033bc5c6a5025c40539724453db8a947abb93555ae562908132b5776f0cf767a3cbe0bb34b3",
    );
  });
});
