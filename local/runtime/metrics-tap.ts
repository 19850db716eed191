/**
 * A Powertools Metrics instance for handlers run locally: it keeps the running totals of every metric the
 * handler adds (for the live counters and the summary) instead of printing EMF lines to stdout, which would
 * tear through the progress display. Metrics added through singleMetric() with a dimension are kept apart
 * as `<name>{<dim>=<value>}`, so a breakdown is never added into its total.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';

type MetricUnit = Parameters<Metrics['addMetric']>[1];

export class MetricsTap extends Metrics {
  private readonly store: Map<string, number>;
  private dimension?: string;

  constructor(totals: Map<string, number> = new Map()) {
    super({ namespace: 'local', serviceName: 'local' });
    this.store = totals;
  }

  override addMetric(name: string, _unit: MetricUnit, value: number): this {
    const key = this.dimension ? `${name}{${this.dimension}}` : name;
    this.store.set(key, (this.store.get(key) ?? 0) + value);
    return this;
  }

  override addDimension(name: string, value: string): this {
    this.dimension = this.dimension ? `${this.dimension},${name}=${value}` : `${name}=${value}`;
    return this;
  }

  override publishStoredMetrics(): this {
    return this;
  }

  override singleMetric(): Metrics {
    return new MetricsTap(this.store);
  }

  /** Running total of a metric (0 when never added). */
  total(name: string): number {
    return this.store.get(name) ?? 0;
  }

  /** Every running total, breakdowns included. */
  totals(): Record<string, number> {
    return Object.fromEntries(this.store);
  }

  /** Totals of a metric broken down by one dimension: { value: total }. */
  breakdown(name: string, dimension: string): Record<string, number> {
    const out: Record<string, number> = {};
    const prefix = `${name}{${dimension}=`;
    for (const [key, value] of this.store) {
      if (key.startsWith(prefix) && key.endsWith('}')) out[key.slice(prefix.length, -1)] = value;
    }
    return out;
  }
}
