// Test-only: how long Envoy keeps a raw TCP connection that sends some bytes, then nothing.
import { connect } from "node:net";

/** Seconds until the listener at `url` closes a connection that sends `bytes`; rejects after `limitS`. */
export function secondsUntilClosed(
  url: string,
  bytes: Uint8Array,
  limitS: number,
): Promise<number> {
  const socket = connect(Number(new URL(url).port), "127.0.0.1");
  socket.on("error", () => {});
  socket.on("connect", () => {
    if (bytes.length > 0) socket.write(bytes);
  });
  socket.resume();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after ${limitS} s`));
    }, limitS * 1000);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve((performance.now() - started) / 1000);
    });
  });
}
