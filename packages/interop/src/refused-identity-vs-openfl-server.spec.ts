// Identities OpenFL 1.9's real AggregatorGRPCServer (grpcio, TLS 1.3) will never accept. It
// drops such a connection right after the handshake with no TLS alert, so the client only sees
// a stream reset (CANCEL); before the adapter's probe, that was retried forever. Each case must
// end in an error that cannot heal, within 3 attempts, naming the likely cause.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AggregatorGRPCClient, type AggregatorGRPCClientOptions } from "@openfl-connect/node";
import {
  collaboratorConnection,
  createTestPki,
  issueCollaborator,
  type TestPki,
} from "@openfl-connect/reference-aggregator/pki";
import { BOUNDED_RETRY, cannotHealWithin } from "@openfl-connect/test-support/call-errors";
import {
  AGGREGATOR_UUID,
  createInteropPki,
  FEDERATION_UUID,
  type OpenFLServer,
  removeDir,
  startOpenFLServer,
} from "./openfl-fixture.js";

describe("identities OpenFL 1.9's real server refuses", () => {
  let dir: string;
  let pki: TestPki;
  let server: OpenFLServer;
  const clients: AggregatorGRPCClient[] = [];

  const client = (overrides: Partial<AggregatorGRPCClientOptions>) => {
    const c = new AggregatorGRPCClient({
      ...collaboratorConnection(pki, "collaborator1", {
        port: server.port,
        aggregatorUuid: AGGREGATOR_UUID,
        federationUuid: FEDERATION_UUID,
      }),
      retry: BOUNDED_RETRY,
      warn: () => {},
      ...overrides,
    });
    clients.push(c);
    return c;
  };

  before(async () => {
    ({ dir, pki } = await createInteropPki(["collaborator1"]));
    server = await startOpenFLServer({
      pki,
      recordDir: join(dir, "records"),
      collaborators: ["collaborator1"],
    });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.disconnect()));
    await server?.stop();
    await removeDir(dir);
  });

  it("the right certificate works (the control)", async () => {
    await client({}).ping();
  });

  it("a certificate from a foreign CA: names the certificate file and its issuer", async () => {
    const foreign = await createTestPki(join(dir, "foreign"), { collaborators: ["collaborator1"] });
    const pair = foreign.collaborators.collaborator1;
    assert.ok(pair);
    await assert.rejects(
      client({ certificate: pair.cert, privateKey: pair.key }).ping(),
      cannotHealWithin(
        3,
        new RegExp(
          `does not accept the client certificate ${pair.cert}.*issued by 'openfl-connect test CA`,
        ),
      ),
    );
  });

  it("a certificate that expired while the collaborator ran: says it expired", async () => {
    const validMs = 4_000;
    // Its own name (the CN does not matter: the refusal is at the TLS layer).
    const shortLived = await issueCollaborator(pki, "short-lived", {
      validity: {
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + validMs),
      },
    });
    const c = client({ certificate: shortLived.cert, privateKey: shortLived.key });
    // Valid at construction (with a warning); by the first call it has expired.
    await new Promise((resolve) => setTimeout(resolve, validMs + 1_500));
    await assert.rejects(c.ping(), cannotHealWithin(3, /client certificate .*EXPIRED on/));
  });

  it("no client certificate: says the aggregator requires one", async () => {
    await assert.rejects(
      client({ requireClientAuth: false, certificate: undefined, privateKey: undefined }).ping(),
      cannotHealWithin(3, /requires a client certificate and this client presents none/),
    );
  });

  it("useTls: false: says the aggregator speaks TLS", async () => {
    await assert.rejects(
      client({ useTls: false }).ping(),
      cannotHealWithin(3, /useTls is false, but the aggregator .* speaks TLS/),
    );
  });
});
