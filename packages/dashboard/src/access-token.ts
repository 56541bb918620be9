import type { Interceptor } from "@connectrpc/connect";

/**
 * The user's access token for the proxy (Envoy's `jwt_authn` wants `Authorization: Bearer
 * <JWT>`). Kept in sessionStorage (this tab only, gone when it closes), never in localStorage,
 * never in the URL and never in the page's log.
 */
export const ACCESS_TOKEN_KEY = "openfl-connect.dashboard.access-token";

/** Thrown for a token that cannot travel in an HTTP header. The message never contains it. */
export class InvalidAccessTokenError extends Error {
  override name = "InvalidAccessTokenError";
}

/**
 * The token as it is sent: trimmed, a pasted "Bearer " prefix removed; "" for none.
 * Throws InvalidAccessTokenError for whitespace or control characters inside it.
 */
export function normaliseAccessToken(raw: string): string {
  const token = raw.trim().replace(/^bearer\s+/i, "");
  // RFC 6750 b64token characters; a JWT is three base64url parts joined by dots.
  if (token !== "" && !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
    throw new InvalidAccessTokenError(
      "The access token has characters a bearer token cannot have (spaces, line breaks, ...): paste the token alone.",
    );
  }
  return token;
}

export function loadAccessToken(storage: Pick<Storage, "getItem">): string {
  return storage.getItem(ACCESS_TOKEN_KEY) ?? "";
}

/** Saves the normalised token; an empty one removes it. Throws InvalidAccessTokenError. */
export function saveAccessToken(
  storage: Pick<Storage, "setItem" | "removeItem">,
  raw: string,
): void {
  const token = normaliseAccessToken(raw);
  if (token === "") storage.removeItem(ACCESS_TOKEN_KEY);
  else storage.setItem(ACCESS_TOKEN_KEY, token);
}

/**
 * A connect interceptor that sends `authorization: Bearer <token>` on every call; with no token
 * (undefined or "") requests go out unchanged. Throws InvalidAccessTokenError.
 */
export function bearerTokenInterceptor(raw: string | undefined): Interceptor {
  const token = normaliseAccessToken(raw ?? "");
  return (next) => async (request) => {
    if (token !== "") request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };
}
