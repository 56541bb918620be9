// What both of the adapter's transports (gRPC over HTTP/2, OpenFL's REST over HTTPS) make of
// the checked TLS material: the options of tls.connect, the CA bundle's hint on a chain that
// did not verify, and a refetched root CA.
import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import type { PlatformFailure } from "@openfl-connect/core/internal";
import { classifyNodeFailure } from "./node-failure.js";
import { looksLikePemContent, readPemFile } from "./pem-files.js";
import { checkAggregatorIdentity } from "./server-identity.js";
import { type CheckedTls, parseCertificates } from "./tls-material.js";

/** CA, client certificate and key, server name and its check; no ALPN (each transport sets its own). */
export function tlsConnectOptions(tls: CheckedTls, serverName: string): ConnectionOptions {
  return {
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.clientIdentity ? { cert: tls.clientIdentity.cert, key: tls.clientIdentity.key } : {}),
    // SNI carries host names only; an IP address is still verified against the IP SANs.
    ...(isIP(serverName) ? {} : { servername: serverName }),
    checkServerIdentity: (_host, certificate) => checkAggregatorIdentity(serverName, certificate),
  };
}

/** Node's codes for a certificate whose issuer is not among the trusted ones. */
const ISSUER_MISSING = /UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|UNABLE_TO_VERIFY_LEAF_SIGNATURE/;

/** Node's reading of a failure, with the CA bundle's hint when the chain did not verify. */
export function classifyWithCaHint(
  error: unknown,
  tls: CheckedTls | undefined,
): PlatformFailure | undefined {
  const seen = classifyNodeFailure(error);
  const hint = tls?.caHint;
  if (seen?.t === "server-certificate" && hint && ISSUER_MISSING.test(seen.failure)) {
    return { ...seen, failure: `${seen.failure}; ${hint}` };
  }
  return seen;
}

/**
 * The material with a new root CA: what OpenFL's refetch callback returns, a PEM file path or
 * PEM text. The old bundle's hint is dropped (it described the old bundle).
 */
export function withRefetchedRootCertificate(tls: CheckedTls, rootCertificate: string): CheckedTls {
  const option = "rootCertificate (refetched)";
  const pem = looksLikePemContent(rootCertificate)
    ? parseCertificates(option, Buffer.from(rootCertificate), "(PEM text)").pem
    : parseCertificates(option, readPemFile(option, rootCertificate), rootCertificate).pem;
  const { caHint: _, ...rest } = tls;
  return { ...rest, ca: pem };
}
