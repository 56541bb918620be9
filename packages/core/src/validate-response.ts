import { HeaderMismatchError } from "./errors.js";
import type { MessageHeader } from "./gen/openfl/protocols/aggregator_pb.js";

const checkedFields = [
  ["sender", "sender"],
  ["receiver", "receiver"],
  ["federationUuid", "federation_uuid"],
  ["singleColCertCommonName", "single_col_cert_common_name"],
] as const;

/**
 * Checks all four header fields of a response (OpenFL: validate_response).
 * A missing header counts as all fields empty. Throws HeaderMismatchError naming
 * the first field that differs, with the OpenFL (snake_case) field name.
 */
export function validateResponseHeader(
  rpc: string,
  actual: MessageHeader | undefined,
  expected: MessageHeader,
): void {
  for (const [key, wireName] of checkedFields) {
    const got = actual?.[key] ?? "";
    if (got !== expected[key]) throw new HeaderMismatchError(rpc, wireName, expected[key], got);
  }
}
