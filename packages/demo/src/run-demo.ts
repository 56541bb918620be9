/**
 * Runs a demo's main and exits with its code. A flag the demo does not take (node's parseArgs
 * refusal) is a usage error: its message alone, exit 2. Any other failure is printed as
 * "demo FAILED: ..." with its stack (exit 1).
 */
export function runDemo(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error) => {
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_")) {
        console.error(
          `demo: ${(error as Error).message} (each demo's flags: packages/demo/README.md)`,
        );
        process.exit(2);
      }
      console.error(
        `demo FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      process.exit(1);
    },
  );
}
