import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { connectClient, header, withTempDir } from "./spec-fixtures.js";

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));

describe("cli", () => {
  it("creates a PKI, prints a ready line, serves, and exits cleanly on SIGTERM", async () => {
    await withTempDir(async (dir) => {
      const pkiDir = join(dir, "pki");
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          CLI,
          "--port",
          "0",
          "--rounds",
          "1",
          "--collaborators",
          "alice,bob",
          "--pki-dir",
          pkiDir,
          "--federation-uuid",
          "plan.yaml_cafebabe",
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      try {
        const lines = createInterface({ input: child.stdout });
        const [first] = (await once(lines, "line")) as [string];
        const ready = JSON.parse(first) as Record<string, unknown>;
        assert.equal(ready.ready, true);
        assert.equal(ready.federationUuid, "plan.yaml_cafebabe");
        assert.equal(ready.aggregatorUuid, "aggregator_plan.yaml_cafebabe");
        assert.equal(ready.pkiDir, pkiDir);
        assert.equal(typeof ready.port, "number");
        await access(join(pkiDir, "collaborators", "bob.key"));

        const c = await connectClient(`https://127.0.0.1:${ready.port}`, join(pkiDir, "ca.crt"), {
          cert: join(pkiDir, "collaborators", "alice.crt"),
          key: join(pkiDir, "collaborators", "alice.key"),
        });
        const response = await c.client.ping({
          header: {
            ...header("alice", {
              receiver: "aggregator_plan.yaml_cafebabe",
              federationUuid: "plan.yaml_cafebabe",
            }),
          },
        });
        assert.equal(response.header?.receiver, "alice");
        c.close();

        child.kill("SIGTERM");
        const [code] = (await once(child, "exit")) as [number | null];
        assert.equal(code, 0);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    });
  });

  it("refuses a port past 65535 or below 0 with a usage error (exit 2) naming the flag", async () => {
    for (const [port, message] of [
      ["65536", /--port must be from 0 to 65535/],
      ["-1", /--port must be a whole number >= 0/],
      ["80.5", /--port must be a whole number >= 0/],
    ] as const) {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", CLI, "--insecure", "--collaborators", "alice", `--port=${port}`],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
      });
      const deadline = setTimeout(() => child.kill("SIGKILL"), 20_000);
      try {
        const [code] = (await once(child, "exit")) as [number | null];
        assert.equal(code, 2, `--port ${port}: ${stderr}`);
        assert.match(stderr, message);
      } finally {
        clearTimeout(deadline);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    }
  });
});
