/**
 * Benchmark harness: every figure is a median of several timed rounds and is printed with the ratio to a
 * baseline measured in the same run, because the machine is shared and absolute numbers drift.
 */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Name of the figure this one is compared with, if any. */
  readonly baseline?: string;
  /** value / baseline value (for throughput: higher is better). */
  readonly ratio?: number;
  /** Target ratio from the issue or design, shown next to the ratio. */
  readonly target?: string;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Throughput of `fn` over `items` in items/s: the median of `rounds` timed passes after `warmup` untimed ones.
 * The candidates are interleaved round by round so that a noisy neighbour slows all of them alike.
 */
export function throughput<T>(items: readonly T[], candidates: Record<string, (items: readonly T[]) => unknown>, rounds = 9, warmup = 2): Record<string, number> {
  return measure(items, candidates, rounds, warmup).throughput;
}

export interface Measurement {
  /** Median items/s of each candidate. */
  readonly throughput: Record<string, number>;
  /**
   * Median over rounds of each candidate's throughput divided by the FIRST candidate's in the same round.
   * Pairing rounds cancels most of the noise of a shared machine, which shifts both alike.
   */
  readonly ratio: Record<string, number>;
}

export function measure<T>(items: readonly T[], candidates: Record<string, (items: readonly T[]) => unknown>, rounds = 15, warmup = 3): Measurement {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]));
  let sink: unknown;
  for (let r = 0; r < warmup + rounds; r++) {
    for (const [name, fn] of Object.entries(candidates)) {
      const start = process.hrtime.bigint();
      sink = fn(items);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (r >= warmup) samples[name]!.push(items.length / seconds);
    }
  }
  if (sink === Symbol.for('never')) console.log(sink);
  const names = Object.keys(candidates);
  const base = samples[names[0]!]!;
  return {
    throughput: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])),
    ratio: Object.fromEntries(names.map((k) => [k, median(samples[k]!.map((v, i) => v / base[i]!))])),
  };
}

/** A figure compared with a baseline; `ratio` defaults to value / baselineValue (pass a paired ratio when measured). */
export function ratioFigure(name: string, value: number, unit: string, baselineName: string, baselineValue: number, target?: string, ratio?: number): Figure {
  const r = ratio ?? value / baselineValue;
  return { name, value: Math.round(value), unit, baseline: baselineName, ratio: Math.round(r * 100) / 100, ...(target ? { target } : {}) };
}
