// Picks the first TF.js backend that starts, from those the application registered by importing
// them (@tensorflow/tfjs-backend-webgl, -wasm, -cpu): the library itself registers none.
import * as tf from "@tensorflow/tfjs-core";

/**
 * Tries `preferred` in order (e.g. ["webgl", "wasm", "cpu"]) and returns the backend now in use.
 * A backend that is not registered, or fails to start (no WebGL context in a headless browser,
 * say), is skipped. Throws naming what was tried and what is registered when none starts.
 */
export async function selectBackend(preferred: readonly string[]): Promise<string> {
  const tried: string[] = [];
  for (const name of preferred) {
    if (tf.findBackendFactory(name) === null) {
      tried.push(`${name} (not registered)`);
      continue;
    }
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return tf.getBackend();
      }
      tried.push(`${name} (did not start)`);
    } catch (error) {
      tried.push(`${name} (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const registered = Object.keys(tf.engine().registryFactory);
  throw new Error(
    `no TF.js backend started: tried ${tried.join(", ") || "none"}; registered: ${registered.join(", ") || "none"} (import @tensorflow/tfjs-backend-cpu, -wasm or -webgl)`,
  );
}
