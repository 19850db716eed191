/**
 * The runtime's producer: the seeded synthetic workload (workload/generator.ts) sent at a steady rate through the
 * typed producer client (batching, retries with backoff and jitter), keeping what it sent so the summary and
 * the tests can account for every record: its kind, event id, shard and sequence number.
 *
 * `resendRatio` resends whole PutRecords batches, as a producer does when an acknowledgement is lost (a
 * timeout after the write): the same bytes again, under new sequence numbers.
 *
 * Nothing it was asked to send goes unmentioned: report() says how many records the run planned, how many the
 * stream accepted, how many failed after the client's retries (by error code), and how many were never sent
 * because the duration ended first (the stream took them slower than the rate asked for).
 */
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
import { EventProducer } from '@personalization-data-platform/producer';
import { seededRandom } from '../../core/seeded-random';
import { AnonymousVisitors, type AnonymousVisitorOptions, type VisitorRecord, type VisitorStats } from '../../workload/anonymous-visitors';
import { Workload, type WorkloadOptions, type WorkloadRecord } from '../../workload/generator';

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
  /**
   * Anonymous visitors (workload/anonymous-visitors.ts): the share of users who browse with only an anonymous id
   * first, some of whom log in (an identify event) and go on as the user. @default none
   */
  anonymous?: Omit<AnonymousVisitorOptions, 'seed' | 'identify'>;
  /** Share of PutRecords batches sent a second time. @default 0 */
  resendRatio?: number;
  /** Milliseconds between PutRecords calls. @default 100 */
  tickMs?: number;
}

/** What became of the records a run was asked to send. */
export interface ProducerReport {
  /** Records the rate and duration asked for (rate x duration), resends not included. */
  planned: number;
  /** Records handed to PutRecords (first copies). */
  attempted: number;
  /** First copies the stream accepted. */
  accepted: number;
  /** Records that failed after the producer client's retries, by error code. */
  failedByCode: Record<string, number>;
  /** Planned records never sent because the duration ended (or the run was stopped) first. */
  notSent: number;
  /** Why notSent is not 0, in words; undefined when it is. */
  notSentReason?: string;
  /** Records per second the stream took while sending (first copies). */
  achievedRate: number;
  /** The slowest PutRecords call (with the client's retries), in ms. */
  slowestCallMs: number;
}

export class SyntheticProducer {
  readonly workload: Workload;
  /** The anonymous visitors the workload is sent with, if any. */
  readonly visitors: AnonymousVisitors | undefined;
  readonly sent: SentRecord[] = [];
  /** The first copy of every valid event, by event id: the oracle's input. */
  readonly uniqueValid = new Map<string, BehaviouralEvent>();
  failed = 0;
  private readonly failedByCode = new Map<string, number>();
  private readonly producer: EventProducer;
  private readonly random: () => number;
  private stopRequested = false;
  private planned = 0;
  private attempted = 0;
  private accepted = 0;
  private sendingMs = 0;
  private slowestCallMs = 0;
  private endedBy: 'duration' | 'stop' | undefined;

  constructor(private readonly options: SyntheticProducerOptions) {
    this.workload = new Workload(options.workload);
    this.visitors = options.anonymous && options.anonymous.share > 0 ? new AnonymousVisitors({ ...options.anonymous, seed: options.workload.seed ?? 42 }) : undefined;
    this.producer = new EventProducer({ streamName: options.streamName });
    this.random = seededRandom((options.workload.seed ?? 42) ^ 0x5bd1e995);
  }

  /** Sends at the configured rate until durationMs has passed or stop() is called. */
  async run(durationMs: number): Promise<void> {
    const tickMs = this.options.tickMs ?? 100;
    const started = Date.now();
    this.planned += Math.floor((durationMs / 1000) * this.options.rate);
    let scheduled = 0;
    while (!this.stopRequested) {
      const elapsed = Date.now() - started;
      if (elapsed >= durationMs) break;
      const due = Math.floor((Math.min(elapsed + tickMs, durationMs) / 1000) * this.options.rate) - scheduled;
      if (due > 0) {
        scheduled += due;
        await this.send(this.next(due));
      }
      const wait = tickMs - ((Date.now() - started) % tickMs);
      await new Promise((r) => setTimeout(r, wait));
    }
    this.endedBy = this.stopRequested ? 'stop' : 'duration';
    this.sendingMs += Date.now() - started;
  }

  /** How many of the planned records were sent, failed or never sent, and why. */
  report(): ProducerReport {
    const notSent = Math.max(0, this.planned - this.attempted);
    const achievedRate = this.sendingMs > 0 ? Math.round((this.accepted / this.sendingMs) * 1000 * 10) / 10 : 0;
    const failedByCode = Object.fromEntries([...this.failedByCode].sort((a, b) => b[1] - a[1]));
    let notSentReason: string | undefined;
    if (notSent > 0) {
      notSentReason =
        this.endedBy === 'stop'
          ? 'the run was stopped before they were sent'
          : `the duration ended before they were sent: the stream took ${achievedRate} records/s of the ${this.options.rate} asked for ` +
            `(the slowest PutRecords call took ${(this.slowestCallMs / 1000).toFixed(1)} s)`;
    }
    return {
      planned: this.planned,
      attempted: this.attempted,
      accepted: this.accepted,
      failedByCode,
      notSent,
      ...(notSentReason ? { notSentReason } : {}),
      achievedRate,
      slowestCallMs: this.slowestCallMs,
    };
  }

  /** Sends the next n records at once (tests and the benchmark). */
  async sendNext(n: number): Promise<void> {
    this.planned += n;
    for (let i = 0; i < n; i += 500) await this.send(this.next(Math.min(500, n - i)));
  }

  /** Who the anonymous visitors were (undefined without them). */
  visitorStats(): VisitorStats | undefined {
    return this.visitors?.stats();
  }

  /** The next n records of the workload, with its anonymous visitors (an identify event adds one). */
  private next(n: number): VisitorRecord[] {
    const records = this.workload.take(n);
    return this.visitors ? this.visitors.apply(records) : records;
  }

  stop(): void {
    this.stopRequested = true;
  }

  private async send(records: VisitorRecord[]): Promise<void> {
    this.attempted += records.length;
    await this.put(records, false);
    if ((this.options.resendRatio ?? 0) > 0 && this.random() < this.options.resendRatio!) await this.put(records, true);
  }

  private async put(records: VisitorRecord[], resent: boolean): Promise<void> {
    const callStarted = Date.now();
    const summary = await this.producer.sendRecords(records.map((r) => ({ data: r.data, partitionKey: r.partitionKey })));
    const now = Date.now();
    this.slowestCallMs = Math.max(this.slowestCallMs, now - callStarted);
    summary.results.forEach((result, i) => {
      const record = records[i]!;
      if (result.status !== 'sent') {
        this.failed++;
        const code = result.status === 'failed' ? `${result.errorCode} after ${result.attempts} attempts` : `rejected: ${result.reason}`;
        this.failedByCode.set(code, (this.failedByCode.get(code) ?? 0) + 1);
        return;
      }
      if (!resent) this.accepted++;
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
