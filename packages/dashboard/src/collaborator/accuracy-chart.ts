// The collaborator page's chart: accuracy per round of the aggregated model (what the
// federation learned) and of this tab's locally trained model, as an SVG drawn here (two lines,
// no library). Pure: the page inserts the returned markup; it holds numbers and fixed labels only.

/** Accuracies of one round, in [0, 1]; either may be missing (task not run yet). */
export interface RoundAccuracy {
  readonly round: number;
  readonly aggregated?: number;
  readonly local?: number;
}

/** Records the `accuracy` metric of the two validation tasks per round, in round order. */
export class RoundAccuracies {
  readonly #rounds = new Map<number, RoundAccuracy>();

  /**
   * Starts from what `list()` gave before, as JSON (kept in sessionStorage so a reload keeps the
   * chart). Anything that is not such a list starts empty; entries out of range are left out.
   */
  static fromJson(text: string | null): RoundAccuracies {
    const restored = new RoundAccuracies();
    let value: unknown;
    try {
      value = JSON.parse(text ?? "[]");
    } catch {
      return restored;
    }
    if (!Array.isArray(value)) return restored;
    const fraction = (v: unknown) => (typeof v === "number" && v >= 0 && v <= 1 ? v : undefined);
    for (const entry of value as Partial<Record<keyof RoundAccuracy, unknown>>[]) {
      const round = entry?.round;
      if (typeof round !== "number" || !Number.isInteger(round) || round < 0) continue;
      const aggregated = fraction(entry.aggregated);
      const local = fraction(entry.local);
      restored.#rounds.set(round, {
        round,
        ...(aggregated === undefined ? {} : { aggregated }),
        ...(local === undefined ? {} : { local }),
      });
    }
    return restored;
  }

  /** Keeps `accuracy` from aggregated_model_validation / locally_tuned_model_validation. */
  record(round: number, taskName: string, metrics: Readonly<Record<string, number>> = {}): void {
    const value = metrics.accuracy;
    if (value === undefined) return;
    const key =
      taskName === "aggregated_model_validation"
        ? "aggregated"
        : taskName === "locally_tuned_model_validation"
          ? "local"
          : undefined;
    if (key === undefined) return;
    this.#rounds.set(round, { ...(this.#rounds.get(round) ?? { round }), [key]: value });
  }

  list(): readonly RoundAccuracy[] {
    return [...this.#rounds.values()].sort((a, b) => a.round - b.round);
  }
}

const WIDTH = 560;
const HEIGHT = 260;
const PAD = { left: 48, right: 16, top: 16, bottom: 40 };

/** x of round index `i` of `n`, y of accuracy `a`. */
function place(i: number, n: number, a: number): [number, number] {
  const w = WIDTH - PAD.left - PAD.right;
  const h = HEIGHT - PAD.top - PAD.bottom;
  const x = PAD.left + (n <= 1 ? w / 2 : (i * w) / (n - 1));
  const y = PAD.top + (1 - Math.min(1, Math.max(0, a))) * h;
  return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
}

/** The chart's SVG markup for `rounds` (an empty chart with axes when there are none). */
export function accuracyChartSvg(rounds: readonly RoundAccuracy[]): string {
  const n = rounds.length;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Accuracy per round: aggregated model and this tab's local model">`,
  ];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const [, y] = place(0, 1, tick);
    parts.push(
      `<line class="grid" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y}" y2="${y}"/>`,
      `<text class="tick" x="${PAD.left - 6}" y="${y + 4}" text-anchor="end">${tick * 100}%</text>`,
    );
  }
  rounds.forEach((r, i) => {
    const [x] = place(i, n, 0);
    parts.push(
      `<text class="tick" x="${x}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle">${r.round}</text>`,
    );
  });
  parts.push(
    `<text class="axis" x="${(WIDTH + PAD.left - PAD.right) / 2}" y="${HEIGHT - 6}" text-anchor="middle">round</text>`,
  );
  for (const series of ["aggregated", "local"] as const) {
    const points = rounds.flatMap((r, i) => {
      const a = r[series];
      return a === undefined ? [] : [place(i, n, a)];
    });
    if (points.length === 0) continue;
    parts.push(
      `<polyline class="series ${series}" data-series="${series}" points="${points.map((p) => p.join(",")).join(" ")}"/>`,
      ...points.map(([x, y]) => `<circle class="series ${series}" cx="${x}" cy="${y}" r="3.5"/>`),
    );
  }
  parts.push("</svg>");
  return parts.join("");
}
