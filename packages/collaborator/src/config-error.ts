// The one error of reading the collaborator's configuration.

/** A configuration problem; `key` is the offending key (dotted for nested ones). */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly key: string | undefined,
    message: string,
  ) {
    super(message);
  }
}
