/**
 * The reproducible benchmark data set: ~100k events of ~400 bytes, base64-encoded as Kinesis delivers them
 * to Lambda, generated from a fixed seed at a fixed start time.
 */
import { Workload } from '../workload/generator';

export const DATASET_START_MS = Date.parse('2026-01-05T08:00:00.000Z');

export interface Dataset {
  /** base64 payloads, as in `Records[].kinesis.data`. */
  readonly base64: readonly string[];
  /** Arrival time to validate against: just after the last event. */
  readonly arrivalMs: number;
  readonly meanBytes: number;
}

export function buildDataset(count = 100_000, seed = 7): Dataset {
  const workload = new Workload({ seed, users: 20_000, startMs: DATASET_START_MS, meanGapMs: 1 });
  const base64: string[] = [];
  let bytes = 0;
  let lastMs = DATASET_START_MS;
  for (let i = 0; i < count; i++) {
    const event = workload.nextEvent();
    const data = Buffer.from(JSON.stringify(event));
    bytes += data.length;
    base64.push(data.toString('base64'));
    lastMs = Date.parse(event.event_time);
  }
  return { base64, arrivalMs: lastMs + 1000, meanBytes: Math.round(bytes / count) };
}
