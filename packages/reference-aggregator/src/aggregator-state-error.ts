// The error of the aggregator's state, in a file of its own so that the checks and the
// averaging that throw it need not import the state machine.

/** An aggregator-side failure; the service answers it as UNKNOWN (like a Python exception). */
export class AggregatorStateError extends Error {
  override name = "AggregatorStateError";
}
