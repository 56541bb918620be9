// The page's proxy. Whoever hosts the page replaces this file (same origin as index.html) and
// sends a Content-Security-Policy whose connect-src is that proxy; see the dashboard's README.
globalThis.OPENFL_DASHBOARD_CONFIG = { proxyUrl: "" };
