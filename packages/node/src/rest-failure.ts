// What an answer of OpenFL's REST server (Flask/werkzeug, transport/rest/aggregator_server.py)
// other than 200 means, as a Connect error whose code core's classifier reads: which refusals
// cannot heal, which may pass, and the server's own words.
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The description of werkzeug's HTML error page (`abort(401, "...")` answers
 * `<title>401 Unauthorized</title>...<p>DESCRIPTION</p>`), unescaped; the body trimmed when it
 * is no such page.
 */
export function errorDescription(body: string): string {
  const match = /<p>([\s\S]*?)<\/p>/.exec(body);
  if (!match) return body.trim().slice(0, 500);
  return (match[1] ?? "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

/** OpenFL's upload route wraps every failure in this text (then abort(400, ...)). */
const UPLOAD_WRAPPER = "Error processing task results: ";
/** An HTTPException as str() writes it, which OpenFL's handlers re-abort with: "401 Unauthorized: ". */
const NESTED_STATUS = /^(\d{3}) [A-Za-z][A-Za-z' -]*: /;

/**
 * The status and text that tell what happened. OpenFL's handlers catch their own abort() and
 * abort again with its text, so "401 Unauthorized: Federation UUID mismatch" arrives as a 401
 * and, from the upload route, as a 400 "Error processing task results: 401 Unauthorized: ...".
 * `serverException` is set when the upload route wrapped an exception of the aggregator itself.
 */
export function innermostRefusal(
  status: number,
  description: string,
): { readonly status: number; readonly detail: string; readonly serverException: boolean } {
  let detail = description;
  let innermost = status;
  const wrapped = detail.startsWith(UPLOAD_WRAPPER);
  if (wrapped) detail = detail.slice(UPLOAD_WRAPPER.length);
  let nested = false;
  for (let m = NESTED_STATUS.exec(detail); m; m = NESTED_STATUS.exec(detail)) {
    innermost = Number(m[1]);
    detail = detail.slice(m[0].length);
    nested = true;
  }
  return { status: innermost, detail, serverException: wrapped && !nested };
}

/**
 * The Connect code of an OpenFL REST answer: 401 cannot heal (core reads OpenFL's texts); a
 * 400 is our request (cannot heal) unless it wraps an exception of the aggregator, which is
 * ambiguous as UNKNOWN is over gRPC; 404/405 mean no OpenFL REST route there, 501 a route this
 * aggregator does not serve (interop relay); 408/429/502/503/504 may pass; a 500 hides the
 * aggregator's exception (Flask's generic page), ambiguous.
 */
export function restStatusCode(status: number, serverException: boolean): Code {
  switch (status) {
    case 400:
      return serverException ? Code.Unknown : Code.InvalidArgument;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
    case 405:
    case 501:
      return Code.Unimplemented;
    case 408:
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.Unavailable;
    case 413:
      return Code.ResourceExhausted;
    default:
      return status >= 500 ? Code.Unknown : Code.InvalidArgument;
  }
}

/** The error a non-200 answer ends an attempt with: code from the status, OpenFL's words as message. */
export function restFailure(status: number, route: string, body: string): ConnectError {
  const {
    status: innermost,
    detail,
    serverException,
  } = innermostRefusal(status, errorDescription(body));
  const shown = innermost === status ? `HTTP ${status}` : `HTTP ${status} (${innermost})`;
  return new ConnectError(
    `${detail} (${shown} from ${route})`,
    restStatusCode(innermost, serverException),
  );
}
