import type { Transport } from "@connectrpc/connect";

/**
 * Ties every call on `transport` to `closed`: once it aborts, pending and later calls
 * fail (AggregatorConnection.close() semantics; fetch has no connection of its own to close).
 */
export function withConnectionSignal(transport: Transport, closed: AbortSignal): Transport {
  const join = (signal: AbortSignal | undefined) =>
    signal === undefined ? closed : AbortSignal.any([signal, closed]);
  return {
    unary: (method, signal, timeoutMs, header, input, contextValues) =>
      transport.unary(method, join(signal), timeoutMs, header, input, contextValues),
    stream: (method, signal, timeoutMs, header, input, contextValues) =>
      transport.stream(method, join(signal), timeoutMs, header, input, contextValues),
  };
}
