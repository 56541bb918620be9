// Whether the aggregator's certificate names the host we connected to. Node's rule
// (tls.checkServerIdentity), plus grpcio's: an IP address is also accepted when a DNS SAN
// spells it. OpenFL's PKI writes the aggregator's address as a DNS SAN whatever it is
// (`fx aggregator generate-cert-request --fqdn 127.0.0.1` gives DNS:127.0.0.1), and OpenFL's
// own client accepts that, so a collaborator that refused it could not join such a federation.
import { isIP } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";

export function checkAggregatorIdentity(
  serverName: string,
  certificate: PeerCertificate,
): Error | undefined {
  const error = checkServerIdentity(serverName, certificate);
  if (error === undefined || isIP(serverName) === 0) return error;
  const dnsNames = (certificate.subjectaltname ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith("DNS:"))
    .map((entry) => entry.slice(4));
  return dnsNames.includes(serverName) ? undefined : error;
}
