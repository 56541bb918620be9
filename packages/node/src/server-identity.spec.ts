import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PeerCertificate } from "node:tls";
import { checkAggregatorIdentity } from "./server-identity.js";

/** The fields tls.checkServerIdentity reads. */
const certificate = (subjectaltname: string, cn = "aggregator") =>
  ({ subject: { CN: cn }, subjectaltname }) as unknown as PeerCertificate;

describe("checkAggregatorIdentity", () => {
  it("accepts what Node accepts: a DNS name by DNS SAN, an IP address by IP SAN", () => {
    assert.equal(
      checkAggregatorIdentity("agg.example.org", certificate("DNS:agg.example.org")),
      undefined,
    );
    assert.equal(
      checkAggregatorIdentity("127.0.0.1", certificate("IP Address:127.0.0.1")),
      undefined,
    );
  });

  it("accepts an IP address spelt as a DNS SAN, as grpcio does (OpenFL's PKI writes them so)", () => {
    assert.equal(checkAggregatorIdentity("127.0.0.1", certificate("DNS:127.0.0.1")), undefined);
    assert.equal(
      checkAggregatorIdentity("10.0.0.7", certificate("DNS:agg, DNS:10.0.0.7")),
      undefined,
    );
  });

  it("refuses any other name, with Node's error", () => {
    for (const [name, san] of [
      ["127.0.0.1", "DNS:127.0.0.2"],
      ["127.0.0.1", "DNS:localhost"],
      ["agg.example.org", "DNS:other.example.org"],
      // A DNS name is never matched against an IP SAN's text.
      ["agg.example.org", "IP Address:10.0.0.7"],
    ] as const) {
      const error = checkAggregatorIdentity(name, certificate(san));
      assert.ok(error instanceof Error, `${name} vs ${san}`);
      assert.match(error.message, /does not match certificate's altnames/);
    }
  });

  it("holds a DNS name to Node's rule alone: a name Node refuses is refused even when a DNS SAN spells it", () => {
    for (const name of ["agg..example.org", "agg.exämple.org"]) {
      const error = checkAggregatorIdentity(name, certificate(`DNS:${name}`));
      assert.ok(error instanceof Error, name);
      assert.match(error.message, /does not match certificate's altnames/);
    }
  });

  it("takes an IP address from DNS SANs only, not from another kind of SAN that spells it", () => {
    for (const san of ["URI:10.0.0.7", "email:10.0.0.7", "IP Address:10.0.0.8, URI:10.0.0.7"]) {
      const error = checkAggregatorIdentity("10.0.0.7", certificate(san));
      assert.ok(error instanceof Error, san);
    }
  });
});
