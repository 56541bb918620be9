/** Runs a demo's main and exits with its code; a failure is printed as "demo FAILED: ..." (exit 1). */
export function runDemo(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(
        `demo FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      process.exit(1);
    },
  );
}
