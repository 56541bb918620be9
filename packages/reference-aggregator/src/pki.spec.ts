import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { describe, it } from "node:test";
import { createTestPki, ensureTestPki, issueCollaborator } from "./pki.js";
import { withTempDir } from "./spec-fixtures.js";

describe("createTestPki", () => {
  it("issues a CA, a localhost server certificate and collaborator certificates in under a second", async () => {
    await withTempDir(async (dir) => {
      const started = Date.now();
      const pki = await createTestPki(dir, { collaborators: ["alice", "bob"] });
      assert.ok(Date.now() - started < 1000, "PKI creation took longer than a second");

      const ca = new X509Certificate(await readFile(pki.caCert));
      assert.equal(ca.ca, true);
      const server = new X509Certificate(await readFile(pki.server.cert));
      assert.match(server.subject, /CN=localhost/);
      assert.equal(server.subjectAltName, "DNS:localhost, IP Address:127.0.0.1");
      assert.ok(server.verify(ca.publicKey));
      assert.equal(server.checkHost("localhost"), "localhost");
      assert.equal(server.checkIP("127.0.0.1"), "127.0.0.1");
      assert.deepEqual(server.keyUsage, ["1.3.6.1.5.5.7.3.1"]);

      const alice = new X509Certificate(await readFile(pki.collaborators.alice?.cert ?? ""));
      assert.match(alice.subject, /CN=alice/);
      assert.ok(alice.verify(ca.publicKey));
      assert.ok(alice.keyUsage.includes("1.3.6.1.5.5.7.3.2"), "clientAuth missing");
    });
  });

  it("writes private keys with mode 0600", async () => {
    await withTempDir(async (dir) => {
      const pki = await createTestPki(dir, { collaborators: ["alice"] });
      for (const key of [pki.caKey, pki.server.key, pki.collaborators.alice?.key ?? ""]) {
        assert.equal((await stat(key)).mode & 0o777, 0o600, key);
      }
    });
  });

  it("issues more collaborators later, signed by the same CA; another directory is another CA", async () => {
    await withTempDir(async (dir) => {
      const pki = await createTestPki(`${dir}/one`, { collaborators: [] });
      const other = await createTestPki(`${dir}/two`, { collaborators: [] });
      const carol = await issueCollaborator(pki, "carol");
      assert.equal(pki.collaborators.carol, carol);
      const cert = new X509Certificate(await readFile(carol.cert));
      assert.ok(cert.verify(new X509Certificate(await readFile(pki.caCert)).publicKey));
      assert.equal(cert.verify(new X509Certificate(await readFile(other.caCert)).publicKey), false);
    });
  });

  it("rejects names that are not lower case file-safe CNs", async () => {
    await withTempDir(async (dir) => {
      const pki = await createTestPki(dir, { collaborators: [] });
      await assert.rejects(issueCollaborator(pki, "Alice"), /lower case/);
      await assert.rejects(issueCollaborator(pki, "../x"), /lower case/);
    });
  });
});

describe("ensureTestPki", () => {
  it("reuses an existing CA and issues only missing collaborators", async () => {
    await withTempDir(async (dir) => {
      const first = await ensureTestPki(dir, { collaborators: ["alice"] });
      const caBefore = await readFile(first.caCert, "utf8");
      const aliceBefore = await readFile(first.collaborators.alice?.cert ?? "", "utf8");
      const second = await ensureTestPki(dir, { collaborators: ["alice", "bob"] });
      assert.equal(await readFile(second.caCert, "utf8"), caBefore);
      assert.equal(await readFile(second.collaborators.alice?.cert ?? "", "utf8"), aliceBefore);
      assert.ok(second.collaborators.bob);
    });
  });
});
