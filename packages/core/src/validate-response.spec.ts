import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { HeaderMismatchError } from "./errors.js";
import type { MessageHeader } from "./gen/openfl/protocols/aggregator_pb.js";
import { MessageHeaderSchema } from "./gen/openfl/protocols/aggregator_pb.js";
import { expectedResponseHeader, requestHeader } from "./message-header.js";
import { validateResponseHeader } from "./validate-response.js";

const identity = {
  aggregatorUuid: "aggregator_plan.yaml_4ebcd576",
  federationUuid: "plan.yaml_4ebcd576",
  collaboratorName: "one",
};

/**
 * What OpenFL's server writes in every response header (aggregator_server.py create_header):
 * sender = the aggregator uuid, receiver = the collaborator, its federation uuid, and the
 * single-certificate CN ("" when every collaborator has its own certificate). Written out here,
 * not built with the code under test.
 */
const openflResponseHeader = (): MessageHeader =>
  create(MessageHeaderSchema, {
    sender: "aggregator_plan.yaml_4ebcd576",
    receiver: "one",
    federationUuid: "plan.yaml_4ebcd576",
    singleColCertCommonName: "",
  });

describe("message headers", () => {
  it("stamps sender, receiver, federation and an empty single CN on requests", () => {
    const h = requestHeader(identity);
    assert.deepEqual(
      [h.sender, h.receiver, h.federationUuid, h.singleColCertCommonName],
      ["one", "aggregator_plan.yaml_4ebcd576", "plan.yaml_4ebcd576", ""],
    );
  });

  it("expects the response header OpenFL's server writes", () => {
    assert.deepEqual(expectedResponseHeader(identity), openflResponseHeader());
    validateResponseHeader("Ping", openflResponseHeader(), expectedResponseHeader(identity));
  });

  for (const [field, key] of [
    ["sender", "sender"],
    ["receiver", "receiver"],
    ["federation_uuid", "federationUuid"],
    ["single_col_cert_common_name", "singleColCertCommonName"],
  ] as const) {
    it(`names '${field}' with expected and actual when it differs`, () => {
      const bad = create(MessageHeaderSchema, { ...openflResponseHeader(), [key]: "x" });
      assert.throws(
        () => validateResponseHeader("GetTasks", bad, expectedResponseHeader(identity)),
        (e: unknown) =>
          e instanceof HeaderMismatchError &&
          e.field === field &&
          e.actual === "x" &&
          e.message.includes(field) &&
          e.rpc === "GetTasks",
      );
    });
  }

  it("treats a missing header as a mismatch on sender", () => {
    assert.throws(
      () => validateResponseHeader("Ping", undefined, expectedResponseHeader(identity)),
      (e: unknown) => e instanceof HeaderMismatchError && e.field === "sender" && e.actual === "",
    );
  });
});
