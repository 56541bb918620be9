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
});
