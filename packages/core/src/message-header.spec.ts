import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expectedResponseHeader, requestHeader } from "./message-header.js";

// A federation in single-certificate mode: every field non-empty, so a header that drops or
// swaps one shows here (an empty CN would hide a header that always sends "").
const identity = {
  aggregatorUuid: "aggregator_plan.yaml_4ebcd576",
  federationUuid: "plan.yaml_4ebcd576",
  collaboratorName: "col1",
  singleColCertCommonName: "shared-collaborators",
};

describe("message headers carry every identity field", () => {
  it("request: collaborator -> aggregator, the single-certificate CN included", () => {
    const h = requestHeader(identity);
    assert.deepEqual(
      [h.sender, h.receiver, h.federationUuid, h.singleColCertCommonName],
      ["col1", "aggregator_plan.yaml_4ebcd576", "plan.yaml_4ebcd576", "shared-collaborators"],
    );
  });

  it("expected response: aggregator -> collaborator, the same CN", () => {
    const h = expectedResponseHeader(identity);
    assert.deepEqual(
      [h.sender, h.receiver, h.federationUuid, h.singleColCertCommonName],
      ["aggregator_plan.yaml_4ebcd576", "col1", "plan.yaml_4ebcd576", "shared-collaborators"],
    );
  });

  it("an absent CN is sent as OpenFL's default, the empty string", () => {
    const { singleColCertCommonName: _, ...rest } = identity;
    assert.equal(requestHeader(rest).singleColCertCommonName, "");
    assert.equal(expectedResponseHeader(rest).singleColCertCommonName, "");
  });
});
