import {
  AggregatorCallError,
  CertificateLoadError,
  InvalidOptionError,
} from "@openfl-connect/core";
import { UnknownTaskError } from "./collaborator-service.js";
import { ConfigError } from "./config.js";

/** The CLI's exit codes. */
export const EXIT_CODES = {
  /** The aggregator said quit: the experiment is over. */
  finished: 0,
  /** Bad configuration: unknown key, wrong type, missing key, unreadable certificate, bad task module. */
  config: 1,
  /** The aggregator failed in a way resending cannot heal (or the retry budget ran out). */
  aggregator: 2,
  /** A task function failed, or another unexpected error. */
  task: 3,
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
    error instanceof UnknownTaskError
  ) {
    return EXIT_CODES.config;
  }
  // Every failed call, a response header mismatch included.
  if (error instanceof AggregatorCallError) {
    return EXIT_CODES.aggregator;
  }
  return EXIT_CODES.task;
}
