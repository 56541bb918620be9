// OpenFL names a federation `f"{plan_name}_{sha384(yaml.dump(config))[:8]}"`; this is the hash
// part, so the collaborator can derive the same federation_uuid from the same plan.
import { createHash } from "node:crypto";
import type { PyValue } from "./py-values.js";
import { dumpPyYaml } from "./pyyaml-dump.js";

/** Hex sha384 of `yaml.dump(config)` encoded as UTF-8 (OpenFL keeps its first 8 characters). */
export function planHash(config: PyValue): string {
  return createHash("sha384").update(dumpPyYaml(config), "utf8").digest("hex");
}
