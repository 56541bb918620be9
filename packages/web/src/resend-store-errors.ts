import { OpenFLClientError } from "@openfl-connect/core";

/** An IndexedDbResendBuffer cannot use its database. Names the database. */
export class ResendStoreError extends OpenFLClientError {
  override name = "ResendStoreError";
  constructor(
    readonly database: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The browser refused to store an upload (QuotaExceededError): the site's storage is full.
 * Nothing was stored and nothing else was removed; the upload fails with this error.
 */
export class ResendStoreQuotaError extends ResendStoreError {
  override name = "ResendStoreQuotaError";
  constructor(
    database: string,
    /** The upload that could not be stored (its description, never its bytes). */
    readonly request: string,
    readonly bytes: number,
    options: { cause: unknown },
  ) {
    super(
      database,
      `cannot keep the upload ${request} (${bytes} bytes) for resending in IndexedDB database ` +
        `'${database}': the browser's storage quota for this site is used up (QuotaExceededError). ` +
        "Nothing was stored and the upload was not sent; free site storage (or allow more) and " +
        "run the task again.",
      options,
    );
  }
}

/**
 * Another tab (or another buffer in this one) holds the database: two users of one database would
 * send the same uploads twice.
 */
export class ResendStoreLockedError extends ResendStoreError {
  override name = "ResendStoreLockedError";
  constructor(database: string, waitedMs: number, options?: { cause?: unknown }) {
    super(
      database,
      `IndexedDB database '${database}' is in use by another tab of this browser (or another ` +
        `buffer in this page) and was not released within ${waitedMs} ms: one collaborator ` +
        "identity can run in one tab at a time. Close the other tab, or stop it there.",
      options,
    );
  }
}
