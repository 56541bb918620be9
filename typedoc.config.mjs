// API reference of the published libraries (docs/api, not committed), built in CI with warnings
// as errors: `pnpm exec typedoc`.
import { OptionDefaults } from "typedoc";

/** @type {Partial<import("typedoc").TypeDocOptions>} */
const config = {
  entryPointStrategy: "packages",
  entryPoints: [
    "packages/core",
    "packages/node",
    "packages/web",
    "packages/collaborator",
    "packages/tfjs",
  ],
  packageOptions: {
    entryPoints: ["src/index.ts"],
    tsconfig: "tsconfig.json",
    // protoc-gen-es marks generated declarations with @generated.
    blockTags: [...OptionDefaults.blockTags, "@generated"],
    // No public repository URL to link sources to yet.
    disableSources: true,
  },
  out: "docs/api",
  name: "openfl-connect",
  readme: "none",
  treatWarningsAsErrors: true,
};
export default config;
