/** A serialized request kept until the aggregator acknowledges it. */
export interface PendingRequest {
  /** Unique within the buffer. */
  readonly id: string;
  /** The RPC it belongs to, e.g. "SendLocalTaskResults". */
  readonly rpc: string;
  /**
   * Exactly the bytes to (re)send, as consecutive parts: for uploads, the serialized
   * TaskResults, whose large parts are views of the tensors' data_bytes (see
   * serializeTaskResultsParts). Concatenated, they are the message.
   */
  readonly parts: readonly Uint8Array[];
  /** What it is, for logs and listings (never tensor contents). */
  readonly description: string;
}

/**
 * Where requests wait for their acknowledgement. The default keeps them in memory; a
 * durable implementation (e.g. files on disk) lets a restarted process resend them.
 */
export interface ResendBuffer {
  add(request: PendingRequest): void | Promise<void>;
  acknowledge(id: string): void | Promise<void>;
  /**
   * Called instead of `acknowledge` when the request can never be delivered as it is (the
   * failure cannot heal, e.g. UNAUTHENTICATED or a response header mismatch). A durable buffer
   * keeps it aside for a person to look at; without this method it is dropped. Either way
   * its parts are also on the error (`unsentRequest`).
   */
  discard?(id: string, reason: string): void | Promise<void>;
  list(): readonly PendingRequest[] | Promise<readonly PendingRequest[]>;
}

export class InMemoryResendBuffer implements ResendBuffer {
  readonly #pending = new Map<string, PendingRequest>();

  add(request: PendingRequest): void {
    this.#pending.set(request.id, request);
  }

  acknowledge(id: string): void {
    this.#pending.delete(id);
  }

  list(): readonly PendingRequest[] {
    return [...this.#pending.values()];
  }
}
