/**
 * The runtime's producer accounts for every record it was asked to send: accepted, failed after the client's
 * retries (by error code), or never sent because the run's duration ended first, with the reason.
 */
import { randomUUID } from 'node:crypto';
import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { kinesisClient } from '../../../adapters/aws-clients';
import { describeProducer } from '../../../local/runtime/summary';
import { SyntheticProducer } from '../../../local/runtime/synthetic-producer';
import { useEmulators } from '../../support/emulators';

const emulators = useEmulators({ kinesis: true });

async function createStream(): Promise<string> {
  const name = `producer-${randomUUID().slice(0, 8)}`;
  await kinesisClient().send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  while ((await kinesisClient().send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary?.StreamStatus !== 'ACTIVE') {
    await new Promise((r) => setTimeout(r, 20));
  }
  return name;
}

describe('SyntheticProducer', () => {
  it('accounts for every planned record: accepted, or not sent when the duration ended first', async () => {
    const producer = new SyntheticProducer({ streamName: await createStream(), rate: 100, workload: { seed: 1, users: 10 } });
    await producer.run(500);
    const report = producer.report();
    expect(report).toMatchObject({ planned: 50, failedByCode: {} });
    expect(report.accepted).toBe(report.attempted);
    expect(report.accepted + report.notSent).toBe(50);
    expect(producer.sent).toHaveLength(report.accepted);
    if (report.notSent === 0) expect(describeProducer(report)).toBe('producer: all 50 planned records accepted by the stream');
    else expect(describeProducer(report)).toContain(`${report.notSent} not sent: the duration ended before they were sent`);

    await producer.sendNext(20);
    expect(producer.report()).toMatchObject({ planned: 70, accepted: report.accepted + 20, notSent: report.notSent });
  });

  it('counts records that failed after the retries by error code', async () => {
    const producer = new SyntheticProducer({ streamName: 'no-such-stream', rate: 100, workload: { seed: 1, users: 10 } });
    await producer.run(300);
    const report = producer.report();
    expect(report).toMatchObject({ planned: 30, accepted: 0, failedByCode: { 'ResourceNotFoundException after 1 attempts': report.attempted } });
    expect(report.attempted).toBeGreaterThan(0);
    expect(report.attempted + report.notSent).toBe(30);
    expect(describeProducer(report)).toContain(`${report.attempted} failed after the client's retries (ResourceNotFoundException after 1 attempts: ${report.attempted})`);
  });

  it('says how many records were never sent, and why, when the stream is too slow for the duration', async () => {
    const stream = await createStream();
    const producer = new SyntheticProducer({ streamName: stream, rate: 100, workload: { seed: 1, users: 10 } });
    // The Kinesis emulator stops answering for 1.5 s of a 1 s run: the first PutRecords waits it out.
    const pid = emulators().pid('kinesis')!;
    process.kill(pid, 'SIGSTOP');
    const resume = setTimeout(() => process.kill(pid, 'SIGCONT'), 1_500);
    try {
      await producer.run(1_000);
    } finally {
      clearTimeout(resume);
      process.kill(pid, 'SIGCONT');
    }
    const report = producer.report();
    expect(report.planned).toBe(100);
    expect(report.notSent).toBeGreaterThan(0);
    expect(report.accepted + report.notSent).toBe(report.planned);
    expect(report.slowestCallMs).toBeGreaterThan(1_000);
    expect(report.notSentReason).toMatch(/^the duration ended before they were sent: the stream took [\d.]+ records\/s of the 100 asked for \(the slowest PutRecords call took \d+\.\d s\)$/);
    expect(describeProducer(report)).toContain(`${report.notSent} not sent: the duration ended`);
  });
});
