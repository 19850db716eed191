/** The scheduled profile export's pure logic: snapshot day, prefix, idempotency token, request. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { profileExportPrefix } from '../../core/lake/catalog';
import {
  SCHEDULED_TIME_SKEW_MS,
  exportClientToken,
  exportS3Prefix,
  exportTimeOf,
  profileExportRequest,
  unrestorableReason,
  scheduledTimeOf,
  snapshotDay,
} from '../../core/lake/profile-export';

const TABLE = 'arn:aws:dynamodb:eu-west-1:123456789012:table/pdp-prod-profiles';
const OTHER_TABLE = 'arn:aws:dynamodb:eu-west-1:123456789012:table/pdp-staging-profiles';
const target = { tableArn: TABLE, bucket: 'pdp-prod-curated-bucket', bucketOwner: '123456789012' };
const DAY_MS = 86_400_000;

describe('snapshot day and prefix', () => {
  it('is the UTC day of the scheduled time, whatever zone the time is written in', () => {
    expect(snapshotDay(new Date('2025-03-10T02:00:00Z'))).toBe('2025-03-10');
    expect(snapshotDay(new Date('2025-03-09T23:30:00-05:00'))).toBe('2025-03-10');
    expect(snapshotDay(new Date('2025-03-10T00:30:00+01:00'))).toBe('2025-03-09');
    expect(() => snapshotDay(new Date('nope'))).toThrow(/invalid time/);
  });

  it('sends the catalog prefix without its trailing slash, so DynamoDB writes under the snapshot partition', () => {
    expect(exportS3Prefix('2025-03-10')).toBe('profile-exports/snapshot=2025-03-10');
    // DynamoDB writes `<S3Prefix>/AWSDynamoDB/<export id>/...`: the keys the profile_exports table and the local lake use.
    expect(`${exportS3Prefix('2025-03-10')}/AWSDynamoDB/0123-abcd/data/x.json.gz`).toBe(`${profileExportPrefix('2025-03-10')}AWSDynamoDB/0123-abcd/data/x.json.gz`);
  });
});

describe('client token', () => {
  it('is derived from the table and the day only', () => {
    const token = exportClientToken(TABLE, '2025-03-10');
    expect(token).toMatch(/^profile-export-[0-9a-f]{16}-20250310$/);
    expect(exportClientToken(TABLE, '2025-03-10')).toBe(token);
    expect(exportClientToken(TABLE, '2025-03-11')).not.toBe(token);
    expect(exportClientToken(OTHER_TABLE, '2025-03-10')).not.toBe(token);
    // DynamoDB's pattern for ClientToken is ^[^$]+$.
    expect(token).toMatch(/^[^$]+$/);
  });

  it('refuses a day that is not YYYY-MM-DD', () => {
    expect(() => exportClientToken(TABLE, '2025-3-10')).toThrow(/YYYY-MM-DD/);
  });

  it('is the same for any two times of one UTC day and differs across days (property)', () => {
    const start = Date.UTC(2020, 0, 1);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3650 }), fc.integer({ min: 0, max: DAY_MS - 1 }), fc.integer({ min: 0, max: DAY_MS - 1 }), (day, a, b) => {
        const t1 = new Date(start + day * DAY_MS + a);
        const t2 = new Date(start + day * DAY_MS + b);
        const next = new Date(start + (day + 1) * DAY_MS + a);
        expect(exportClientToken(TABLE, snapshotDay(t1))).toBe(exportClientToken(TABLE, snapshotDay(t2)));
        expect(exportClientToken(TABLE, snapshotDay(next))).not.toBe(exportClientToken(TABLE, snapshotDay(t1)));
      }),
    );
  });
});

describe('scheduled time of an invocation', () => {
  const now = Date.parse('2025-03-10T02:00:07Z');

  it("reads Scheduler's <aws.scheduler.scheduled-time>", () => {
    expect(scheduledTimeOf({ scheduledTime: '2025-03-10T02:00:00Z' }, now).toISOString()).toBe('2025-03-10T02:00:00.000Z');
    expect(scheduledTimeOf({ scheduledTime: '2025-03-10T03:00:00.000+01:00' }, now).toISOString()).toBe('2025-03-10T02:00:00.000Z');
  });

  it.each([
    [undefined],
    [null],
    [{}],
    [{ scheduledTime: 1741572000 }],
    [{ scheduledTime: '2025-03-10' }],
    [{ scheduledTime: '2025-03-10T02:00:00' }],
    [{ scheduledTime: 'yesterday' }],
    [{ scheduledTime: '2025-02-30T02:00:00Z' }],
  ])('refuses %j: without a scheduled time the snapshot would depend on when a retry ran', (event) => {
    expect(() => scheduledTimeOf(event, now)).toThrow(/profile export: (the event must carry scheduledTime|scheduledTime is not a valid time)/);
  });

  it('refuses a time in the future beyond clock skew', () => {
    expect(scheduledTimeOf({ scheduledTime: new Date(now + SCHEDULED_TIME_SKEW_MS).toISOString() }, now).getTime()).toBe(now + SCHEDULED_TIME_SKEW_MS);
    expect(() => scheduledTimeOf({ scheduledTime: new Date(now + SCHEDULED_TIME_SKEW_MS + 1000).toISOString() }, now)).toThrow(/in the future/);
  });
});

describe('export time', () => {
  it('is the full UTC hour at or before the scheduled time', () => {
    expect(exportTimeOf(new Date('2025-03-10T02:15:00Z')).toISOString()).toBe('2025-03-10T02:00:00.000Z');
    expect(exportTimeOf(new Date('2025-03-10T02:00:00Z')).toISOString()).toBe('2025-03-10T02:00:00.000Z');
    expect(exportTimeOf(new Date('2025-03-10T00:59:59.999Z')).toISOString()).toBe('2025-03-10T00:00:00.000Z');
  });

  // DynamoDB API Reference, PointInTimeRecoveryDescription: "LatestRestorableDateTime is typically 5 minutes
  // before the current time." Only a time inside [earliest, latest] can be exported.
  it('is exportable only inside the restorable window, and says why not otherwise', () => {
    const t = new Date('2025-03-10T02:00:00Z');
    const window = { status: 'ENABLED', earliest: new Date('2025-02-05T00:00:00Z'), latest: new Date('2025-03-10T02:10:00Z') };
    expect(unrestorableReason(t, window)).toBeUndefined();
    expect(unrestorableReason(t, { ...window, latest: new Date('2025-03-10T01:59:59Z') })?.kind).toBe('not-yet');
    expect(unrestorableReason(t, { ...window, earliest: new Date('2025-03-10T02:00:01Z') })?.kind).toBe('too-old');
    expect(unrestorableReason(t, { status: 'DISABLED', earliest: undefined, latest: undefined })?.kind).toBe('disabled');
  });
});

describe('export request', () => {
  const scheduled = new Date('2025-03-10T02:15:00Z');
  const exported = new Date('2025-03-10T02:00:00Z');

  it('exports the table as of the full hour before the run into that hour\'s snapshot partition', () => {
    expect(profileExportRequest(target, scheduled)).toEqual({
      TableArn: TABLE,
      ExportTime: exported,
      ClientToken: exportClientToken(TABLE, '2025-03-10'),
      S3Bucket: 'pdp-prod-curated-bucket',
      S3BucketOwner: '123456789012',
      S3Prefix: 'profile-exports/snapshot=2025-03-10',
      S3SseAlgorithm: 'AES256',
      ExportFormat: 'DYNAMODB_JSON',
      ExportType: 'FULL_EXPORT',
    });
  });

  it('is identical for every attempt of one run, so DynamoDB treats a retry as the same export', () => {
    expect(profileExportRequest(target, new Date(scheduled))).toEqual(profileExportRequest(target, new Date(scheduled)));
  });

  it('leaves out S3BucketOwner when none is configured', () => {
    expect(profileExportRequest({ tableArn: TABLE, bucket: 'b' }, scheduled)).not.toHaveProperty('S3BucketOwner');
  });
});
