/**
 * The runtime's producer: the seeded synthetic workload (local/workload.ts) sent at a steady rate through the
 * typed producer client (batching, retries with backoff and jitter), keeping what it sent so the summary and
 * the tests can account for every record: its kind, event id, shard and sequence number.
 *
 * `resendRatio` resends whole PutRecords batches, as a producer does when an acknowledgement is lost (a
 * timeout after the write): the same bytes again, under new sequence numbers.
 */
import type { BehaviouralEvent } from '../../lambdas/core/contract';
import { EventProducer } from '../../clients/producer';
import { seededRandom, Workload, type WorkloadOptions, type WorkloadRecord } from '../workload';

export interface SentRecord {
  kind: WorkloadRecord['kind'];
  /** True for the second copy of a batch resent after a lost acknowledgement. */
  resent: boolean;
  eventId?: string;
  userId?: string;
  shardId: string;
  sequenceNumber: string;
  sentAtMs: number;
}

export interface SyntheticProducerOptions {
  streamName: string;
  /** Events per second. */
  rate: number;
  workload: WorkloadOptions;
  /** Share of PutRecords batches sent a second time. @default 0 */
  resendRatio?: number;
  /** Milliseconds between PutRecords calls. @default 100 */
  tickMs?: number;
}

export class SyntheticProducer {
  readonly workload: Workload;
  readonly sent: SentRecord[] = [];
  /** The first copy of every valid event, by event id: the oracle's input. */
  readonly uniqueValid = new Map<string, BehaviouralEvent>();
  failed = 0;
  private readonly producer: EventProducer;
  private readonly random: () => number;
  private stopRequested = false;

  constructor(private readonly options: SyntheticProducerOptions) {
    this.workload = new Workload(options.workload);
    this.producer = new EventProducer({ streamName: options.streamName });
    this.random = seededRandom((options.workload.seed ?? 42) ^ 0x5bd1e995);
  }

  /** Sends at the configured rate until durationMs has passed or stop() is called. */
  async run(durationMs: number): Promise<void> {
    const tickMs = this.options.tickMs ?? 100;
    const started = Date.now();
    let scheduled = 0;
    while (!this.stopRequested) {
      const elapsed = Date.now() - started;
      if (elapsed >= durationMs) break;
      const due = Math.floor((Math.min(elapsed + tickMs, durationMs) / 1000) * this.options.rate) - scheduled;
      if (due > 0) {
        scheduled += due;
        await this.send(this.workload.take(due));
      }
      const wait = tickMs - ((Date.now() - started) % tickMs);
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Sends the next n records at once (tests and the benchmark). */
  async sendNext(n: number): Promise<void> {
    for (let i = 0; i < n; i += 500) await this.send(this.workload.take(Math.min(500, n - i)));
  }

  stop(): void {
    this.stopRequested = true;
  }

  private async send(records: WorkloadRecord[]): Promise<void> {
    await this.put(records, false);
    if ((this.options.resendRatio ?? 0) > 0 && this.random() < this.options.resendRatio!) await this.put(records, true);
  }

  private async put(records: WorkloadRecord[], resent: boolean): Promise<void> {
    const summary = await this.producer.sendRecords(records.map((r) => ({ data: r.data, partitionKey: r.partitionKey })));
    const now = Date.now();
    summary.results.forEach((result, i) => {
      const record = records[i]!;
      if (result.status !== 'sent') {
        this.failed++;
        return;
      }
      const eventId = record.event?.event_id;
      const kind = resent && record.kind === 'valid' ? 'duplicate' : record.kind;
      this.sent.push({
        kind,
        resent,
        ...(eventId ? { eventId } : {}),
        ...(record.event?.user_id ? { userId: record.event.user_id } : {}),
        shardId: result.shardId,
        sequenceNumber: result.sequenceNumber,
        sentAtMs: now,
      });
      // A duplicate whose original was never accepted is the first copy that counts.
      if ((kind === 'valid' || kind === 'duplicate') && record.event && !this.uniqueValid.has(record.event.event_id)) {
        this.uniqueValid.set(record.event.event_id, record.event);
      }
    });
  }
}
