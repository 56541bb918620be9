import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dashboardConfigScript, dashboardContentSecurityPolicy } from "../serve/page-hosting.js";
import { PAGE_CONFIG_GLOBAL, PageConfigError, readPageConfig } from "./page-config.js";

describe("the page's own configuration (dashboard-config.js)", () => {
  it("gives the proxy's origin", () => {
    assert.deepEqual(readPageConfig({ proxyUrl: " https://proxy.example.org:8443/ " }), {
      proxyUrl: "https://proxy.example.org:8443",
    });
  });

  it("refuses a missing config, an empty proxy, a path, a query or another scheme, naming the file", () => {
    for (const bad of [
      undefined,
      {},
      { proxyUrl: "" },
      { proxyUrl: 42 },
      { proxyUrl: "not a url" },
      { proxyUrl: "https://proxy.example.org/api" },
      { proxyUrl: "https://proxy.example.org/?x=1" },
      { proxyUrl: "javascript:alert(1)" },
      { proxyUrl: "https://user@proxy.example.org" },
    ]) {
      assert.throws(
        () => readPageConfig(bad),
        (e: Error) => e instanceof PageConfigError && e.message.includes("dashboard-config.js"),
        JSON.stringify(bad),
      );
    }
  });

  it("is written by the host as a script the page reads back", () => {
    const script = dashboardConfigScript("https://proxy.example.org:8443");
    const scope: Record<string, unknown> = {};
    new Function("globalThis", script)(scope);
    assert.deepEqual(readPageConfig(scope[PAGE_CONFIG_GLOBAL]), {
      proxyUrl: "https://proxy.example.org:8443",
    });
  });

  it("comes with a CSP whose connect-src is the proxy alone", () => {
    const csp = dashboardContentSecurityPolicy("https://proxy.example.org:8443/");
    const directives = Object.fromEntries(
      csp.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1)]),
    );
    assert.deepEqual(directives["connect-src"], ["https://proxy.example.org:8443"]);
    assert.deepEqual(directives["default-src"], ["'none'"]);
    assert.deepEqual(directives["script-src"], ["'self'"]);
    assert.throws(
      () => dashboardContentSecurityPolicy("https://a.example; connect-src *"),
      PageConfigError,
    );
  });
});
