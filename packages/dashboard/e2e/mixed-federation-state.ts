// What the mixed federation harness (mixed-federation-harness.ts) prints when ready and answers
// on GET /state, shared by the harness and the specs that read it.

/** The harness's {"ready": true, ...} line. */
export interface MixedFederation {
  readonly collaboratorUrl: string;
  readonly proxyUrl: string;
  readonly accessToken: string;
  readonly stateUrl: string;
  readonly csvPath: string;
  readonly rounds: number;
  readonly collaboratorName: string;
  readonly nodeCollaborators: readonly string[];
}

/** One SendLocalTaskResults as it reached the aggregator. */
export interface Upload {
  readonly collaborator: string;
  readonly round: number;
  readonly taskName: string;
  /** OpenFL's aggregator only: each trained tensor as "name tags,sorted lossless=bool". */
  readonly trained?: readonly string[];
}

/** What the harness sees of the aggregator. */
export interface AggregatorView {
  /** Every upload that reached it, duplicates included. */
  readonly uploadsReceived: readonly Upload[];
  /** The results it keeps (the reference aggregator ignores a repeat); null: not observable (OpenFL's). */
  readonly resultsHeld: readonly Upload[] | null;
  /** The aggregated model's validation accuracy of each ended round, in order. */
  readonly aggregatedAccuracy: readonly number[];
}

/** GET /state: the aggregator, and how each Node collaborator's run ended so far. */
export interface MixedFederationState extends AggregatorView {
  readonly nodeOutcomes: Record<string, string>;
}
