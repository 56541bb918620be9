// What a host of the built page serves besides dist/: dashboard-config.js (the page's proxy) and
// the Content-Security-Policy header that lets the page connect to that proxy only. The tests'
// and the demo's static server use these; a production host writes the same two things.
import { PAGE_CONFIG_GLOBAL, readPageConfig } from "../src/page-config.js";

/** The text of dashboard-config.js for `proxyUrl` (checked like the page checks it). */
export function dashboardConfigScript(proxyUrl: string): string {
  const config = readPageConfig({ proxyUrl });
  return `globalThis.${PAGE_CONFIG_GLOBAL} = ${JSON.stringify(config)};\n`;
}

/**
 * The Content-Security-Policy for the page: its own scripts and styles only, and network access
 * (fetch, XMLHttpRequest) to the proxy only.
 */
export function dashboardContentSecurityPolicy(proxyUrl: string): string {
  const { proxyUrl: proxy } = readPageConfig({ proxyUrl });
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    // The collaborator page trains in a Web Worker loaded from the page's own origin.
    "worker-src 'self'",
    `connect-src ${proxy}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}
