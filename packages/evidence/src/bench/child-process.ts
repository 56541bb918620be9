import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
export const PYTHON = `${REPO_ROOT}.venv/bin/python`;
export const TSX = ["--import", "tsx"];
export const HERE = fileURLToPath(new URL(".", import.meta.url));

export interface Ready {
  readonly port: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** Spawns a server that prints {"ready": true, "port": N} on its first stdout line. */
export function spawnReady(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Ready> {
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      const line = stdout.split("\n")[0];
      if (!stdout.includes("\n") || line === undefined) return;
      try {
        const { port } = JSON.parse(line) as { port: number };
        resolve({
          port,
          stderr: () => stderr,
          async stop() {
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
            await exited;
            clearTimeout(timer);
          },
        });
      } catch (error) {
        reject(
          new Error(`${command} ${args[0]}: bad ready line ${line}: ${String(error)}\n${stderr}`),
        );
      }
    });
    void exited.then(() =>
      reject(new Error(`${command} ${args.join(" ")} exited before ready:\n${stderr}`)),
    );
  });
}

/** Runs a command to its end; resolves with the JSON objects it printed, one per stdout line. */
export function runJsonLines(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Record<string, number | string | boolean>[]> {
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => {
      if (code !== 0) {
        reject(
          new Error(
            `${command} ${args.slice(0, 3).join(" ")} exited ${code}:\n${stderr.slice(-3000)}`,
          ),
        );
        return;
      }
      resolve(
        stdout
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l)),
      );
    });
  });
}
