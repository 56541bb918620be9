import { resolve } from "node:path";
import { defineConfig } from "vite";

// A static page: `vite build` writes dist/, which any static server can host (same origin
// as listed in the gRPC-web proxy's allowed origins).
export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    target: "es2022",
    sourcemap: true,
    // Two pages: the federation check and the browser collaborator.
    rollupOptions: {
      input: {
        index: resolve(import.meta.dirname, "index.html"),
        collaborator: resolve(import.meta.dirname, "collaborator.html"),
      },
    },
  },
  worker: { format: "es" },
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  preview: { host: "127.0.0.1", port: 4173, strictPort: true },
});
