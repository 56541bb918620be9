/**
 * "holds" or "MISSED" for a benchmark target, or "no figure" when a figure it needs is missing
 * (a run that failed leaves no rows, and the best of no rows is Infinity; a missing RSS reading is
 * NaN): a run that produced nothing never "holds".
 */
export function verdict(ok: boolean, ...figures: number[]): "holds" | "MISSED" | "no figure" {
  if (!figures.every(Number.isFinite)) return "no figure";
  return ok ? "holds" : "MISSED";
}
