// `npm run demo [-- flags]`: with --openfl, the mixed federation on OpenFL's real Aggregator
// (openfl-demo.ts); otherwise the reference-aggregator demo (demo.ts). Flags go to the demo.
if (process.argv.includes("--openfl")) await import("./openfl-demo.js");
else await import("./demo.js");
