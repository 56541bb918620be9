// InteropRelay (OpenFL's interop mode) through real Envoy only when the generator's input names
// tokens.interop_claim, and then only for tokens whose claim is true (the shipped input leaves
// it out: edge-attacks.spec.ts shows the path is 404 then). The reference aggregator answers it
// as OpenFL's server does outside interop mode, so reaching it is visible in the answer.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type FederationBehindEnvoy,
  startFederationBehindEnvoy,
} from "./federation-behind-envoy.js";
import { grpcWebPost } from "./raw-grpc-web.js";
import type { RunningEnvoy } from "./start-envoy.js";

let edge: FederationBehindEnvoy;
let envoy: RunningEnvoy;

const interopRelay = (token: string) =>
  grpcWebPost(envoy.proxyUrl, "/openfl.aggregator.Aggregator/InteropRelay", { token });

describe("InteropRelay at the edge, when enabled", () => {
  before(async () => {
    edge = await startFederationBehindEnvoy({
      collaborators: ["alice"],
      interopClaim: "openfl_interop",
    });
    envoy = edge.envoy;
  });
  after(() => edge?.close());

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
