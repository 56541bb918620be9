import { create } from "@bufbuild/protobuf";
import { type MessageHeader, MessageHeaderSchema } from "./gen/openfl/protocols/aggregator_pb.js";

/** Who this collaborator is and which aggregator and federation it talks to. */
export interface CollaboratorIdentity {
  /** OpenFL: aggregator_uuid ("aggregator_" + federation uuid under `fx`). */
  readonly aggregatorUuid: string;
  /** OpenFL: federation_uuid (e.g. "plan.yaml_4ebcd576"). */
  readonly federationUuid: string;
  /** OpenFL: collaborator_name; must equal the client certificate's CN. */
  readonly collaboratorName: string;
  /** OpenFL: single_col_cert_common_name. Default "" (not in single-certificate mode). */
  readonly singleColCertCommonName?: string | undefined;
}

/** The header every request carries: collaborator -> aggregator. */
export function requestHeader(identity: CollaboratorIdentity): MessageHeader {
  return create(MessageHeaderSchema, {
    sender: identity.collaboratorName,
    receiver: identity.aggregatorUuid,
    federationUuid: identity.federationUuid,
    singleColCertCommonName: identity.singleColCertCommonName ?? "",
  });
}

/** The header every response must carry: aggregator -> collaborator. */
export function expectedResponseHeader(identity: CollaboratorIdentity): MessageHeader {
  return create(MessageHeaderSchema, {
    sender: identity.aggregatorUuid,
    receiver: identity.collaboratorName,
    federationUuid: identity.federationUuid,
    singleColCertCommonName: identity.singleColCertCommonName ?? "",
  });
}
