import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CertificateLoadError } from "@openfl-connect/core";
import { FileResendBuffer } from "@openfl-connect/node";
import {
  AGGREGATOR_UUID,
  FEDERATION_UUID,
} from "@openfl-connect/test-support/federation-constants";
import { createCollaborator } from "./collaborator-from-config.js";
import { silentLogger } from "./logger.js";
import * as softmax from "./tasks/softmax-regression.js";

const config = (pendingDir: string, certificate: string) => ({
  aggAddr: "localhost",
  aggPort: 1,
  aggregatorUuid: AGGREGATOR_UUID,
  federationUuid: FEDERATION_UUID,
  collaboratorName: "col1",
  tasks: "unused (taskSet given)",
  pendingDir,
  rootCertificate: certificate,
  certificate,
  privateKey: certificate,
});

describe("createCollaborator and pendingDir", () => {
  it("a client that cannot be built releases pendingDir at once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "collaborator-"));
    const pendingDir = join(dir, "pending");
    await assert.rejects(
      createCollaborator(config(pendingDir, join(dir, "missing.pem")), {
        logger: silentLogger,
        taskSet: softmax,
      }),
      CertificateLoadError,
    );
    assert.equal(existsSync(join(pendingDir, ".lock")), false);
    // Free for the next user in this process too.
    await new FileResendBuffer(pendingDir).close();
  });
});
