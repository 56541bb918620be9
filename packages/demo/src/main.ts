// `npm run demo [-- flags]`: with --tfjs, real models (tfjs-demo.ts; with --openfl beside OpenFL's
// Keras collaborators); with --openfl, the mixed federation on OpenFL's real Aggregator
// (openfl-demo.ts); otherwise the reference-aggregator demo (demo.ts). Flags go to the demo.
if (process.argv.includes("--tfjs")) await import("./tfjs-demo.js");
else if (process.argv.includes("--openfl")) await import("./openfl-demo.js");
else await import("./demo.js");
