/**
 * The gates that keep an erased person out of the raw zone, the quarantine zone and the validated stream,
 * through the deployed handlers (the raw framing function, the validation function) and the tombstone readers
 * (the document client's and the validation function's signed Query) against dynalite.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KinesisStreamEvent } from 'aws-lambda';
import type { ForwardRecord } from '../../core/ingest/batch';
import { tombstoneHash } from '../../core/privacy/curation';
import { readRawRecords } from '../../core/lake/raw-framing';
import { createFrameRawHandler, FRAME_RAW_METRICS, frameRawBatch } from '../../lambdas/frame-raw/handler';
import { createValidationHandler, VALIDATION_METRICS, type ValidationHandlerConfig } from '../../lambdas/validate/handler';
import { MetricsTap } from '../../local/runtime/metrics-tap';
import { DynamoTombstones } from '../../adapters/dynamodb/tombstones';
import { TombstoneSet } from '../../adapters/dynamodb/tombstone-set';
import { signedTombstoneQuery } from '../../adapters/dynamodb/signed-tombstone-query';
import { documentClient } from '../../adapters/dynamodb/document-client';
import { dynamoDbClient, kinesisClient } from '../../adapters/aws-clients';
import { LEDGER_ATTRIBUTES } from '../../adapters/dynamodb/ledger-attributes';
import { createActiveTable } from '../support/tables';
import { useEmulators } from '../support/emulators';

/** The erasure of user u-1 and their device dev-1. */
const ERASED = new Set([tombstoneHash('u-1'), tombstoneHash('anon#dev-1')]);
const silent = () => new Logger({ logLevel: 'SILENT' });
const now = Date.parse('2026-12-03T02:00:00.000Z');

function event(fields: Record<string, unknown>, i: number): Record<string, unknown> {
  return { schema_version: '1.1', event_id: `e-${i}`, event_type: 'page_view', event_time: new Date(now - 60_000).toISOString(), session_id: 's-1', ...fields };
}

/** Late records of the erased person (valid and invalid, by user and by device) and of others. */
const erasedRecords = [
  event({ user_id: 'u-1' }, 1),
  event({ anonymous_id: 'dev-1' }, 2),
  event({ user_id: 'u-1', event_type: 'hover' }, 3), // invalid: unknown event type
  { anonymous_id: 'dev-1', event_id: 'e-4' }, // invalid: missing fields
];
const otherRecords = [
  event({ user_id: 'u-2' }, 5),
  event({ anonymous_id: 'dev-2' }, 6),
  event({ user_id: 'u-2', anonymous_id: 'dev-1', event_type: 'identify' }, 7), // someone else on the shared device
  event({ user_id: 'u-2', event_type: 'hover' }, 8), // invalid
];
const notAttributable = [Buffer.from('{"user_id":"u-1"'), Buffer.from('u-1 dev-1'), Buffer.alloc(0)];
const bytes = (r: unknown) => Buffer.from(JSON.stringify(r));

describe('the raw zone gate (the raw framing function)', () => {
  const all = [...erasedRecords.map(bytes), ...otherRecords.map(bytes), ...notAttributable];
  const batch = { records: all.map((b, i) => ({ recordId: `r-${i}`, approximateArrivalTimestamp: now, data: b.toString('base64') })) };

  it('returns the records of erased subjects Dropped, frames every other record as before', async () => {
    const metrics = new MetricsTap();
    const result = await createFrameRawHandler({ erased: async () => ERASED, logger: silent(), metrics })(batch);
    expect(result.records.map((r) => r.recordId)).toEqual(batch.records.map((r) => r.recordId));
    const dropped = result.records.filter((r) => r.result === 'Dropped').map((r) => Number(r.recordId.slice(2)));
    expect(dropped).toEqual([0, 1, 2, 3]);
    expect(result.records.filter((r) => r.result === 'Ok')).toHaveLength(all.length - 4);
    // Firehose considers a Dropped record successfully processed and delivers it nowhere ("Required parameters
    // for data transformation", Firehose developer guide): the raw zone holds exactly the Ok records' lines.
    const body = Buffer.concat(result.records.filter((r) => r.result === 'Ok').map((r) => Buffer.from(r.data!, 'base64')));
    expect(readRawRecords(body)).toEqual(all.slice(4));
    expect(metrics.breakdown(FRAME_RAW_METRICS.dropped, 'reason')).toEqual({ erased_subject: 4 });
  });

  it('drops nothing without tombstones, and frames byte for byte what the ungated function framed', async () => {
    const metrics = new MetricsTap();
    const result = await createFrameRawHandler({ erased: async () => new Set(), logger: silent(), metrics })(batch);
    expect(result).toEqual(frameRawBatch(batch).result);
    expect(result.records.every((r) => r.result === 'Ok')).toBe(true);
    expect(metrics.totals()).toEqual({});
  });
});

describe('the quarantine zone gate (the validation function)', () => {
  const config: ValidationHandlerConfig = {
    validatedStreamName: 'validated',
    quarantineBucket: 'quarantine',
    validation: { maxEventBytes: 8192, maxFutureSkewMs: 300_000, maxPastAgeMs: 7 * 86_400_000 },
    quarantinePayloadMaxBytes: 4096,
    forwardRetry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
  };
  const records = [...erasedRecords, ...otherRecords];
  const kinesisEvent: KinesisStreamEvent = {
    Records: records.map((r, i) => ({
      eventID: `shardId-000000000000:${1000 + i}`,
      kinesis: { data: bytes(r).toString('base64'), partitionKey: String(r.user_id ?? r.anonymous_id), sequenceNumber: String(1000 + i), approximateArrivalTimestamp: now / 1000 },
    })) as KinesisStreamEvent['Records'],
  };

  function harness(erased: () => Promise<ReadonlySet<string>>) {
    const forwarded: string[] = [];
    const quarantined: string[] = [];
    const metrics = new MetricsTap();
    const handler = createValidationHandler({
      config,
      erased,
      now: () => now,
      metrics,
      logger: silent(),
      forward: async (entries: readonly ForwardRecord[]) => {
        forwarded.push(...entries.map((e) => String(JSON.parse(Buffer.from(e.data).toString('utf8')).event_id)));
        return entries.map((_, i) => ({ ok: true as const, sequenceNumber: String(i), shardId: 'shardId-000000000000' }));
      },
      quarantine: {
        put: async (_key, body) => {
          for (const line of body.trim().split('\n')) quarantined.push(String(JSON.parse(Buffer.from(JSON.parse(line).payload_base64, 'base64').toString('utf8')).event_id));
        },
      },
    });
    return { handler, forwarded, quarantined, metrics };
  }

  it('neither quarantines nor forwards a record of an erased subject, valid or not; counts it by reason', async () => {
    const h = harness(async () => ERASED);
    expect(await h.handler(kinesisEvent)).toEqual({ batchItemFailures: [] });
    expect(h.forwarded).toEqual(['e-5', 'e-6', 'e-7']);
    expect(h.quarantined).toEqual(['e-8']);
    expect(h.metrics.total(VALIDATION_METRICS.dropped)).toBe(4);
    expect(h.metrics.breakdown(VALIDATION_METRICS.dropped, 'reason')).toEqual({ erased_subject: 4 });
    expect(h.metrics.total(VALIDATION_METRICS.recordsIn)).toBe(8);
    expect(h.metrics.total(VALIDATION_METRICS.quarantined)).toBe(1);
  });

  it('without tombstones, validates everything as before', async () => {
    const h = harness(async () => new Set());
    await h.handler(kinesisEvent);
    expect(h.forwarded).toEqual(['e-1', 'e-2', 'e-5', 'e-6', 'e-7']);
    expect(h.quarantined).toEqual(['e-3', 'e-4', 'e-8']);
    expect(h.metrics.total(VALIDATION_METRICS.dropped)).toBe(0);
  });

  it('when the tombstones cannot be read, uses the last set read; before any was read, fails the batch for Lambda to retry', async () => {
    let reads = 0;
    const h = harness(async () => {
      reads++;
      if (reads !== 2) throw new Error('ProvisionedThroughputExceededException');
      return ERASED;
    });
    await expect(h.handler(kinesisEvent)).rejects.toThrow(/ProvisionedThroughput/);
    expect(h.forwarded).toEqual([]);
    expect(h.quarantined).toEqual([]);
    await h.handler(kinesisEvent); // read 2 succeeds
    await h.handler(kinesisEvent); // read 3 fails: the set of read 2
    expect(h.forwarded).toEqual(['e-5', 'e-6', 'e-7', 'e-5', 'e-6', 'e-7']);
    expect(h.metrics.total(VALIDATION_METRICS.tombstoneReadFailures)).toBe(1);
  });
});

describe('reading the tombstones', () => {
  useEmulators({ dynamodb: true });
  const TABLE = 'ledger-gates';
  beforeAll(async () => {
    const { partitionKey, sortKey } = LEDGER_ATTRIBUTES;
    await createActiveTable(dynamoDbClient(), {
      TableName: TABLE,
      KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }, { AttributeName: sortKey, KeyType: 'RANGE' }],
      AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: 'S' }, { AttributeName: sortKey, AttributeType: 'S' }],
    });
  }, 60_000);

  it('the signed Query (validation function) and the document client read the same live set; expired ones do not count', async () => {
    const writer = new DynamoTombstones({ ledgerTableName: TABLE, client: documentClient() });
    const nowS = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 120; i++) await writer.add(`u-${i}`, nowS + 3600);
    await writer.add('anon#dev-1', nowS + 3600);
    await writer.add('u-expired', nowS - 10);
    const expected = new Set([...Array.from({ length: 120 }, (_, i) => tombstoneHash(`u-${i}`)), tombstoneHash('anon#dev-1')]);
    expect(await writer.hashes()).toEqual(expected);
    const kinesis = kinesisClient();
    const signed = new TombstoneSet(
      signedTombstoneQuery({ ledgerTableName: TABLE, region: kinesis.config.region, credentials: kinesis.config.credentials, endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } }),
    );
    expect(await signed.hashes()).toEqual(expected);
    // Page by page: the key where a page ends goes back as it came (DynamoDB's own encoding).
    let pages = 0;
    const paged = signedTombstoneQuery({ ledgerTableName: TABLE, region: kinesis.config.region, credentials: kinesis.config.credentials, endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 }, pageSize: 7 });
    expect(await new TombstoneSet((start) => (pages++, paged(start))).hashes()).toEqual(expected);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(122 / 7));
  });

  it('keeps a set for its cache time (a minute by default), then reads again', async () => {
    let clock = Date.now();
    const reader = new DynamoTombstones({ ledgerTableName: TABLE, client: documentClient(), now: () => clock });
    const first = await reader.hashes();
    // Another process's erasure (the erase function) is seen after the cache time, not before.
    await new DynamoTombstones({ ledgerTableName: TABLE, client: documentClient() }).add('u-late', Math.floor(clock / 1000) + 3600);
    clock += 59_000;
    expect((await reader.hashes()).has(tombstoneHash('u-late'))).toBe(false);
    expect(await reader.hashes()).toBe(first);
    clock += 1_000;
    expect((await reader.hashes()).has(tombstoneHash('u-late'))).toBe(true);
  });

  it('a signed Query of a missing table fails with the service\'s error code, not retried', async () => {
    const kinesis = kinesisClient();
    const read = signedTombstoneQuery({ ledgerTableName: 'no-such-table', region: kinesis.config.region, credentials: kinesis.config.credentials, endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    await expect(read(undefined)).rejects.toMatchObject({ name: 'TombstoneReadError', code: 'ResourceNotFoundException', kind: 'permanent' });
  });
});
