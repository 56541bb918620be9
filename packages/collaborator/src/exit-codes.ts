import {
  AggregatorCallError,
  CertificateLoadError,
  InvalidOptionError,
} from "@openfl-connect/core";
import {
  PendingDirLockedError,
  PendingDirUnsafeError,
  PendingDiskFullError,
} from "@openfl-connect/node";
import { UnknownTaskError } from "./collaborator-service.js";
import { ConfigError } from "./config-error.js";
import { TaskDeclarationError } from "./task-set.js";

/** The CLI's exit codes. */
export const EXIT_CODES = {
  /** The aggregator said quit: the experiment is over. */
  finished: 0,
  /**
   * Bad configuration: unknown key, wrong type, missing key, unreadable certificate, bad task
   * module, a pendingDir another process holds or others may write to.
   */
  config: 1,
  /** The aggregator failed in a way resending cannot heal (or the retry budget ran out). */
  aggregator: 2,
  /** A task function failed, or another unexpected error. */
  task: 3,
  /** The disk (or quota) holding pendingDir is full: an upload could not be stored. */
  diskFull: 4,
  /** Stopped by SIGINT (128 + 2). */
  sigint: 130,
  /** Stopped by SIGTERM (128 + 15). */
  sigterm: 143,
} as const;

/** The exit code for an error that ended the collaborator. */
export function exitCodeFor(error: unknown): number {
  if (
    error instanceof ConfigError ||
    error instanceof InvalidOptionError ||
    error instanceof CertificateLoadError ||
    error instanceof UnknownTaskError ||
    error instanceof TaskDeclarationError ||
    error instanceof PendingDirLockedError ||
    error instanceof PendingDirUnsafeError
  ) {
    return EXIT_CODES.config;
  }
  if (error instanceof PendingDiskFullError) return EXIT_CODES.diskFull;
  // Every failed call, a response header mismatch included.
  if (error instanceof AggregatorCallError) {
    return EXIT_CODES.aggregator;
  }
  return EXIT_CODES.task;
}

/** The log event of the line saying why the collaborator stopped. */
export function stopEventFor(error: unknown): string {
  return error instanceof PendingDiskFullError
    ? "stopped: the disk holding pendingDir is full"
    : "stopped by an error";
}
