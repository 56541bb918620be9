// An OpenFL workspace that cannot be used as given: a configuration error (exit code 1), naming
// the file and the key.
import { ConfigError } from "../config-error.js";

export class WorkspaceError extends ConfigError {
  override name = "WorkspaceError";
}
