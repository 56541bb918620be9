// What each call of the aggregator protocol is on OpenFL's REST server (AggregatorRESTClient in
// transport/rest/aggregator_client.py): route, method, query and identity headers.
import type { MessageHeader } from "@openfl-connect/core/protocol";

/** OpenFL's API prefix (AggregatorRESTServer.api_prefix). */
export const REST_API_PREFIX = "/experimental/v1";

export interface RestRequest {
  readonly method: "GET" | "POST";
  /** Under REST_API_PREFIX, e.g. "/tasks". */
  readonly route: string;
  readonly query: readonly (readonly [string, string])[];
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The identity headers OpenFL's client sends on every request (`_build_header`); its server
 * reads them on uploads (`_validate_task_headers`).
 */
export function identityHeaders(header: MessageHeader): Record<string, string> {
  return {
    Sender: header.sender,
    Receiver: header.receiver,
    "Federation-UUID": header.federationUuid,
    "Single-Col-Cert-CN": header.singleColCertCommonName,
  };
}

/** Ping and GetTasks: GET with the collaborator and federation in the query, as OpenFL's client. */
export function identityQuery(header: MessageHeader): [string, string][] {
  return [
    ["collaborator_id", header.sender],
    ["federation_uuid", header.federationUuid],
  ];
}

/** Ping ("/ping") and GetTasks ("/tasks"): GETs that carry the identity only. */
export function identityGetRequest(route: "/ping" | "/tasks", header: MessageHeader): RestRequest {
  return {
    method: "GET",
    route,
    query: identityQuery(header),
    headers: { ...identityHeaders(header), Accept: "application/json" },
  };
}

/**
 * GetAggregatedTensor: the request's fields as query parameters, in OpenFL's client's order;
 * its server reads booleans as the text "true" (any case) and tags as repeated parameters.
 */
export function getAggregatedTensorRequest(request: {
  readonly header: MessageHeader;
  readonly tensorName: string;
  readonly roundNumber: number;
  readonly report: boolean;
  readonly tags: readonly string[];
  readonly requireLossless: boolean;
}): RestRequest {
  const h = request.header;
  return {
    method: "GET",
    route: "/tensors/aggregated",
    query: [
      ["sender", h.sender],
      ["receiver", h.receiver],
      ["federation_uuid", h.federationUuid],
      ["tensor_name", request.tensorName],
      ["round_number", String(request.roundNumber)],
      ["report", String(request.report)],
      ...request.tags.map((t): [string, string] => ["tags", t]),
      ["require_lossless", String(request.requireLossless)],
      ["collaborator_id", h.sender],
    ],
    headers: { ...identityHeaders(h), Accept: "application/json" },
  };
}

export function sendLocalTaskResultsRequest(header: MessageHeader): RestRequest {
  return {
    method: "POST",
    route: "/tasks/results",
    query: [],
    headers: {
      ...identityHeaders(header),
      Accept: "application/json",
      "Content-Type": "application/x-protobuf-stream",
    },
  };
}

export function interopRelayRequest(header: MessageHeader): RestRequest {
  return {
    method: "POST",
    route: "/interop/relay",
    query: [],
    headers: {
      ...identityHeaders(header),
      Accept: "application/json",
      "Content-Type": "application/json",
    },
  };
}

/** The path and query of a request, e.g. "/experimental/v1/tasks?collaborator_id=one&...". */
export function requestPath(request: RestRequest): string {
  const query = new URLSearchParams(request.query.map(([k, v]) => [k, v])).toString();
  return `${REST_API_PREFIX}${request.route}${query ? `?${query}` : ""}`;
}
