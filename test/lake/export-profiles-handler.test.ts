/**
 * The real export handler with the real SDK v3 DynamoDB client, against a small HTTP server on 127.0.0.1 that
 * records each request and answers like DynamoDB (no emulator implements ExportTableToPointInTime).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { exportClientToken } from '../../core/lake/profile-export';
import { EXPORT_PROFILES_ENV, handler } from '../../lambdas/export-profiles/handler';
import { resetClients } from '../../adapters/aws-clients';

const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/pdp-prod-profiles';
const BUCKET = 'pdp-prod-curated-0123456789ab';
const SCHEDULED = '2025-03-10T02:15:00Z';
const EXPORTED = '2025-03-10T02:00:00Z';
const EXPORT_ARN = `${TABLE_ARN}/export/01741572000000-a1b2c3d4`;

interface Recorded { method: string; url: string; headers: IncomingHttpHeaders; body: Record<string, unknown> }
type Answer = { status: number; body: unknown };

let server: Server;
let requests: Recorded[] = [];
let answer: Answer;
/** The table's restorable window, as DescribeContinuousBackups reports it (epoch seconds). */
let pitr: { PointInTimeRecoveryStatus: string; EarliestRestorableDateTime?: number; LatestRestorableDateTime?: number };
const saved: Record<string, string | undefined> = {};

const ok = (request: Record<string, unknown>): Answer => ({
  status: 200,
  body: {
    ExportDescription: {
      ExportArn: EXPORT_ARN,
      ExportStatus: 'IN_PROGRESS',
      TableArn: request.TableArn,
      ExportTime: request.ExportTime,
      ClientToken: request.ClientToken,
      S3Bucket: request.S3Bucket,
      S3Prefix: request.S3Prefix,
      ExportFormat: request.ExportFormat,
      StartTime: 1741572001.5,
    },
  },
});

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const describe = req.headers['x-amz-target'] === 'DynamoDB_20120810.DescribeContinuousBackups';
      const a = describe
        ? { status: 200, body: { ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: pitr } } }
        : answer.status === 200
          ? ok(body)
          : answer;
      res.writeHead(a.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `req-${requests.length}` });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    [EXPORT_PROFILES_ENV.tableArn]: TABLE_ARN,
    [EXPORT_PROFILES_ENV.bucket]: BUCKET,
    [EXPORT_PROFILES_ENV.bucketOwner]: '123456789012',
  };
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  for (const k of ['AWS_ENDPOINT_URL', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_MAX_ATTEMPTS']) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
  resetClients();
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  resetClients();
});

beforeEach(() => {
  requests = [];
  answer = { status: 200, body: {} };
  // Typical: the latest restorable time ~5 minutes behind a run at 02:15.
  pitr = { PointInTimeRecoveryStatus: 'ENABLED', EarliestRestorableDateTime: Date.parse('2025-02-05T00:00:00Z') / 1000, LatestRestorableDateTime: Date.parse('2025-03-10T02:10:00Z') / 1000 };
});
const exports = () => requests.filter((r) => r.headers['x-amz-target'] === 'DynamoDB_20120810.ExportTableToPointInTime');

describe('export-profiles handler', () => {
  it('checks the restorable window, then sends exactly one signed ExportTableToPointInTime request for the full hour before the run', async () => {
    const result = await handler({ scheduledTime: SCHEDULED });

    expect(requests).toHaveLength(2);
    expect(requests[0]!.headers['x-amz-target']).toBe('DynamoDB_20120810.DescribeContinuousBackups');
    expect(requests[0]!.body).toEqual({ TableName: TABLE_ARN });
    const [r] = exports();
    expect(r!.method).toBe('POST');
    expect(r!.url).toBe('/');
    expect(r!.headers['x-amz-target']).toBe('DynamoDB_20120810.ExportTableToPointInTime');
    expect(r!.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(r!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/dynamodb\/aws4_request, /);
    expect(r!.body).toEqual({
      TableArn: TABLE_ARN,
      ExportTime: Date.parse(EXPORTED) / 1000,
      ClientToken: exportClientToken(TABLE_ARN, '2025-03-10'),
      S3Bucket: BUCKET,
      S3BucketOwner: '123456789012',
      S3Prefix: 'profile-exports/snapshot=2025-03-10',
      S3SseAlgorithm: 'AES256',
      ExportFormat: 'DYNAMODB_JSON',
      ExportType: 'FULL_EXPORT',
    });
    expect(r!.body.ClientToken).toMatch(/^profile-export-[0-9a-f]{16}-20250310$/);
    expect(result).toEqual({ exportArn: EXPORT_ARN, status: 'IN_PROGRESS', snapshotPrefix: 'profile-exports/snapshot=2025-03-10', exportTime: '2025-03-10T02:00:00.000Z' });
  });

  it('sends the identical request when the same run is retried later', async () => {
    await handler({ scheduledTime: SCHEDULED });
    await handler({ scheduledTime: SCHEDULED });
    expect(exports()).toHaveLength(2);
    expect(exports()[1]!.body).toEqual(exports()[0]!.body);
  });

  it('fails without exporting while the hour is not restorable yet, so that Lambda retries it', async () => {
    pitr = { ...pitr, LatestRestorableDateTime: Date.parse('2025-03-10T01:58:00Z') / 1000 };
    await expect(handler({ scheduledTime: SCHEDULED })).rejects.toMatchObject({ name: 'ExportTimeNotRestorable', message: expect.stringMatching(/2025-03-10T02:00:00.000Z is not restorable yet/) });
    expect(exports()).toHaveLength(0);
  });

  it('fails without exporting when point-in-time recovery is off', async () => {
    pitr = { PointInTimeRecoveryStatus: 'DISABLED' };
    await expect(handler({ scheduledTime: SCHEDULED })).rejects.toThrow(/point-in-time recovery is not enabled/);
    expect(exports()).toHaveLength(0);
  });

  it('throws when DynamoDB refuses the export, so the invocation fails and the errors alarm fires', async () => {
    answer = {
      status: 400,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#PointInTimeRecoveryUnavailableException',
        message: 'Point in time recovery is not enabled for table pdp-prod-profiles',
      },
    };
    await expect(handler({ scheduledTime: SCHEDULED })).rejects.toMatchObject({
      name: 'PointInTimeRecoveryUnavailableException',
      message: 'Point in time recovery is not enabled for table pdp-prod-profiles',
    });
    // A refusal is final for this attempt: no retries inside the handler (Lambda retries the invocation).
    expect(exports()).toHaveLength(1);
  });

  it('throws on an event without a scheduled time, before calling DynamoDB', async () => {
    await expect(handler({} as never)).rejects.toThrow(/must carry scheduledTime/);
    expect(requests).toHaveLength(0);
  });
});
