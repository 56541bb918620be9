import { OpenFLClientError } from "@openfl-connect/core";

/** A FileResendBuffer cannot use its directory. Every subclass names the directory. */
export class PendingDirError extends OpenFLClientError {
  override name = "PendingDirError";
  constructor(
    readonly dir: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Who holds a pending directory's lock, as written in its lock file. */
export interface PendingDirLockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** When the holding process started (ISO 8601). */
  readonly startedAt: string;
}

/**
 * Another process (or another FileResendBuffer in this one) holds the directory: two users of
 * one directory would send the same uploads twice. `holder` is undefined when the lock file
 * cannot be read.
 */
export class PendingDirLockedError extends PendingDirError {
  override name = "PendingDirLockedError";
  constructor(
    dir: string,
    readonly lockFile: string,
    readonly holder: PendingDirLockHolder | undefined,
    problem?: string,
  ) {
    const who =
      holder === undefined
        ? `another process (its lock file ${lockFile} cannot be read${problem ? `: ${problem}` : ""})`
        : `pid ${holder.pid} on host ${holder.hostname} (started ${holder.startedAt}; lock file ` +
          `${lockFile}${problem ? `; ${problem}` : ""})`;
    super(
      dir,
      `pending directory ${dir} is in use by ${who}: two processes on one directory would send ` +
        "the same uploads twice. Stop that process or give this one another directory; if no " +
        "collaborator is using the directory, delete the lock file.",
    );
  }
}

/**
 * The directory is writable by its group or by everyone: another user could add uploads that
 * this collaborator would then send under its own certificate.
 */
export class PendingDirUnsafeError extends PendingDirError {
  override name = "PendingDirUnsafeError";
  constructor(
    dir: string,
    /** The directory's permission bits, e.g. 0o777. */
    readonly mode: number,
  ) {
    const who = mode & 0o002 ? "everyone" : "its group";
    super(
      dir,
      `pending directory ${dir} has mode ${mode.toString(8).padStart(4, "0")}: it is writable by ` +
        `${who}, so another user could add uploads that would be sent under this collaborator's ` +
        `certificate. Make it private (chmod 700 ${dir}) or use another directory.`,
    );
  }
}

/** Adding an upload failed because the disk (or the user's quota) holding the directory is full. */
export class PendingDiskFullError extends PendingDirError {
  override name = "PendingDiskFullError";
  constructor(
    dir: string,
    readonly code: "ENOSPC" | "EDQUOT",
    /** The upload that could not be stored (its description, never its bytes). */
    readonly request: string,
    options: { cause: unknown },
  ) {
    const what = code === "ENOSPC" ? "is full (ENOSPC)" : "is over its quota (EDQUOT)";
    super(
      dir,
      `cannot store the upload ${request} in pending directory ${dir}: the disk holding it ${what}. ` +
        "Nothing was stored; free space there and restart.",
      options,
    );
  }
}
