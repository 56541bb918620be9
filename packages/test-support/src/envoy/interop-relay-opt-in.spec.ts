// InteropRelay (OpenFL's interop mode) through real Envoy only when the generator's input names
// tokens.interop_claim, and then only for tokens whose claim is true (the shipped input leaves
// it out: edge-attacks.spec.ts shows the path is 404 then). The reference aggregator answers it
// as OpenFL's server does outside interop mode, so reaching it is visible in the answer.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestFederation, type TestFederation } from "../reference-federation.js";
import { type RunningEnvoy, startEnvoy } from "./start-envoy.js";

let federation: TestFederation;
let envoy: RunningEnvoy;

function interopRelay(token: string): Promise<Response> {
  return fetch(`${envoy.proxyUrl}/openfl.aggregator.Aggregator/InteropRelay`, {
    method: "POST",
    headers: {
      "content-type": "application/grpc-web+proto",
      "x-grpc-web": "1",
      authorization: `Bearer ${token}`,
    },
    body: new Uint8Array(5),
  });
}

describe("InteropRelay at the edge, when enabled", () => {
  before(async () => {
    federation = await startTestFederation({ collaborators: ["alice"] });
    envoy = await startEnvoy({
      workDir: federation.dir,
      pki: federation.pki,
      aggregatorPort: federation.port,
      dashboardOrigin: "https://dashboard.test",
      listener: "plaintext",
      interopClaim: "openfl_interop",
    });
  });
  after(async () => {
    await envoy?.stop();
    await federation?.close();
  });

  it("routes it for a token whose interop claim is true: the aggregator answers", async () => {
    const token = envoy.token({ sub: "relay@example.org", collaborator: "alice", interop: true });
    const response = await interopRelay(token);
    assert.equal(response.status, 200);
    // The aggregator's status: in the headers (trailers-only) or the body's trailer frame.
    const answer = `${response.headers.get("grpc-message") ?? ""} ${await response.text()}`;
    assert.match(decodeURIComponent(answer), /only available in federated interoperability mode/);
  });

  it("refuses it (403) for a token without the claim, even one that may upload", async () => {
    const token = envoy.token({ sub: "alice@example.org", collaborator: "alice", upload: true });
    const response = await interopRelay(token);
    assert.equal(response.status, 403);
    assert.match(response.headers.get("grpc-message") ?? "", /RBAC: access denied/);
  });
});
