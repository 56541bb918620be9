// Test-only: a signing key for Envoy's jwt_authn (published as a local JWKS) and a minimal
// ES256 JWT signer, with node:crypto alone. Not a JWT library: it signs what it is given.
import { generateKeyPairSync, type KeyObject, randomUUID, sign } from "node:crypto";

/** A JSON Web Key Set as jwt_authn's `local_jwks.inline_string` expects it. */
export interface JsonWebKeySet {
  readonly keys: readonly Record<string, unknown>[];
}

export interface TestJwtKey {
  /** The "kid" in the JWKS and in every token's header. */
  readonly kid: string;
  readonly privateKey: KeyObject;
  /** The public half, as a JWKS (alg ES256, use sig). */
  readonly jwks: JsonWebKeySet;
}

/** A fresh P-256 key pair (ES256). */
export function createTestJwtKey(): TestJwtKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const kid = `e2e-${randomUUID()}`;
  const jwk = publicKey.export({ format: "jwk" });
  return { kid, privateKey, jwks: { keys: [{ ...jwk, kid, alg: "ES256", use: "sig" }] } };
}

/** Registered claims the tests set; any other claim may be added. */
export interface JwtClaims {
  readonly iss: string;
  readonly aud: string | readonly string[];
  readonly sub: string;
  /** Seconds since the epoch. */
  readonly exp: number;
  readonly iat?: number;
  readonly [claim: string]: unknown;
}

/** A compact JWS (header.payload.signature), ES256: the signature is r || s, 64 bytes. */
export function signJwt(key: Pick<TestJwtKey, "kid" | "privateKey">, claims: JwtClaims): string {
  const header = { alg: "ES256", typ: "JWT", kid: key.kid };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign("sha256", Buffer.from(signingInput), {
    key: key.privateKey,
    dsaEncoding: "ieee-p1363",
  });
  return `${signingInput}.${signature.toString("base64url")}`;
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}
