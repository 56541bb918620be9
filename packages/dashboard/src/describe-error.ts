import { Code, ConnectError } from "@connectrpc/connect";
import {
  AggregatorCallError,
  HeaderMismatchError,
  InvalidOptionError,
  isAccessTokenRefusal,
  TensorCodecError,
} from "@openfl-connect/core";
import {
  ResendStoreError,
  ResendStoreLockedError,
  ResendStoreQuotaError,
} from "@openfl-connect/web";
import { InvalidAccessTokenError } from "./access-token.js";
import { PageConfigError } from "./page-config.js";

/** A failure in words a person understands, plus the raw message for the log. */
export interface ErrorDescription {
  /** Short kind, for styling and tests: "header-mismatch", "unauthenticated", ... */
  readonly kind:
    | "header-mismatch"
    | "unauthenticated"
    | "permission-denied"
    | "proxy-unreachable"
    | "aggregator-unreachable"
    | "rate-limited"
    | "aggregator-rejected"
    | "invalid-setting"
    | "storage"
    | "other";
  /** One sentence: what happened and what to check. */
  readonly summary: string;
  /** The underlying message. */
  readonly detail: string;
}

const headerFieldAdvice: Record<string, string> = {
  sender: "the aggregator uuid setting",
  receiver: "the collaborator name setting",
  federation_uuid: "the federation uuid setting",
  single_col_cert_common_name: "single-certificate mode on the aggregator",
};

/** Explains an error thrown by the client or the page. `origin` is this page's origin. */
export function describeError(error: unknown, context: { proxyUrl: string; origin: string }) {
  const detail = error instanceof Error ? error.message : String(error);
  const d = (kind: ErrorDescription["kind"], summary: string): ErrorDescription => ({
    kind,
    summary,
    detail,
  });
  if (error instanceof HeaderMismatchError) {
    return d(
      "header-mismatch",
      `The aggregator answered, but its reply is addressed differently: header field '${error.field}' is "${error.actual}", expected "${error.expected}". Check ${headerFieldAdvice[error.field] ?? "the settings"}.`,
    );
  }
  if (error instanceof InvalidOptionError) {
    return d("invalid-setting", `A setting is not usable: ${error.message}.`);
  }
  if (error instanceof InvalidAccessTokenError || error instanceof PageConfigError) {
    return d("invalid-setting", error.message);
  }
  if (error instanceof ResendStoreQuotaError) {
    return d(
      "storage",
      `This browser has no room left for this site to keep an upload until the aggregator confirms it (${error.bytes} bytes; storage quota used up). Nothing was sent. Free this site's storage (or allow it more) and press Start again.`,
    );
  }
  if (error instanceof ResendStoreLockedError) {
    return d(
      "storage",
      "This collaborator already runs in another tab of this browser: one identity trains in one tab at a time (two would send the same uploads twice). Close the other tab, or stop it there, and press Start again.",
    );
  }
  if (error instanceof ResendStoreError) {
    return d("storage", `The page cannot use the browser's storage (IndexedDB): ${error.message}`);
  }
  if (error instanceof TensorCodecError) {
    return d("other", `The tensor arrived but cannot be decoded: ${error.message}.`);
  }
  const code = error instanceof AggregatorCallError ? error.code : connectCode(error);
  // The web adapter's reading: fetch() failed (network or CORS; a page cannot tell which).
  if (error instanceof AggregatorCallError && error.platform === "connection") {
    return d(
      "proxy-unreachable",
      `The browser could not reach the gRPC-web proxy at ${context.proxyUrl}, or blocked its reply (CORS). Check that the proxy runs, the URL is right, and that its allowed origins include ${context.origin}.`,
    );
  }
  switch (code) {
    case Code.Unauthenticated:
      // Envoy's jwt_authn answers "Jwt is missing", "Jwt is expired", "Jwt verification fails", ...
      if (isAccessTokenRefusal(detail)) {
        return d(
          "unauthenticated",
          "The proxy did not accept your access token (UNAUTHENTICATED): paste a current token from your identity provider in the access token setting; it must be issued for the dashboard's audience and not expired.",
        );
      }
      return d(
        "unauthenticated",
        "The aggregator did not accept this collaborator (UNAUTHENTICATED): the proxy's client certificate CN must equal the collaborator name, and the name must be an authorised collaborator of the federation.",
      );
    case Code.PermissionDenied:
      // Envoy's RBAC: an upload without the upload claim, or a token mapping to no identity.
      return d(
        "permission-denied",
        "The proxy refused this call for your account (PERMISSION_DENIED): sending task results needs a token with the upload permission, and every call needs a token whose collaborator identity the proxy knows. Ask your identity provider's administrator.",
      );
    case Code.Unavailable:
      // Envoy's local rate limit (limits.requests_per_user_per_s): HTTP 429, read as
      // UNAVAILABLE, with Envoy's reason as the message.
      if (/local_rate_limited/.test(detail)) {
        return d(
          "rate-limited",
          "The proxy is limiting how often your account calls (too many requests in a short time). The page tries again after its retry interval. If this keeps happening, your account may be in use in another tab or on another device at the same time; the limit is set by the proxy's administrator.",
        );
      }
      return d(
        "aggregator-unreachable",
        "The proxy answered but could not reach the aggregator (UNAVAILABLE): the aggregator may be down or restarting, or the proxy's TLS connection to it failed (CA, certificate).",
      );
    case Code.Unknown:
    case Code.Internal:
      return d(
        "aggregator-rejected",
        "The aggregator failed the call. With OpenFL this is usually a header check: compare the aggregator uuid, federation uuid and collaborator name with the plan.",
      );
    default:
      return d("other", `The call failed: ${detail}`);
  }
}

function connectCode(error: unknown): Code | undefined {
  return error instanceof ConnectError ? error.code : undefined;
}
