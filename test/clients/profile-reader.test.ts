/**
 * The profile reader as a personalization service uses it: a deadline per call (a stalled table answers with
 * ReadDeadlineError in time, not after the retries), partial batch results that keep what was read and name
 * what was not, and the freshness of each feature. Against dynalite, paused with SIGSTOP for the stall.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ProfileReader, ReadDeadlineError } from '@personalization-data-platform/profile-reader';
import { emptyProfile, type Profile } from '../../core/profiles/model';
import { useEmulators } from '../support/emulators';
import { createActiveTable, USER_KEYED } from '../support/tables';

const emulators = useEmulators({ dynamodb: true });
const T0 = Date.parse('2026-11-30T12:00:00Z');

function profile(userId: string): Profile {
  return {
    ...emptyProfile(userId),
    version: 3,
    updated_at: T0 + 5_000,
    first_seen: T0 - 86_400_000,
    last_seen: T0,
    events: 4,
    counts: { page_view: 2, content_view: 1, purchase: 1 },
    days: { '20261130': 3, '20261129': 1 },
    session_count: 2,
    session_ms: 90_000,
    recent_sessions: [['s1', T0 - 60_000, T0 - 1_000], ['s0', T0 - 86_400_000, T0 - 86_370_000]],
    affinity: { shoes: 1.5 },
    affinity_at: T0 - 30_000,
    recent_content: [['sku-1', T0 - 30_000]],
    purchase_count: 1,
    purchase_value_milli: { EUR: 19_990 },
    locale: 'de-DE',
    locale_at: T0 - 60_000,
  };
}

async function table(name: string, users: string[]): Promise<DynamoDBDocumentClient> {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  await createActiveTable(client, { TableName: name, ...USER_KEYED });
  for (const u of users) await client.send(new PutCommand({ TableName: name, Item: profile(u) }));
  return client;
}

type Send = (command: { input: Record<string, any> }, options?: { abortSignal?: AbortSignal }) => Promise<unknown>;
const scripted = (send: Send) => ({ send }) as never;

describe('ProfileReader against the table', () => {
  it('reads one profile with its derived features and the freshness of each feature', async () => {
    await table('fresh', ['u-1']);
    const reader = new ProfileReader({ tableName: 'fresh', now: () => T0 + 60_000 });
    const p = await reader.get('u-1', { timeoutMs: 2_000 });
    expect(p).toMatchObject({ userId: 'u-1', secondsSinceLastSeen: 60, lifetimeEvents: 4, activity: { last1d: 3, last7d: 4 } });
    expect(p!.freshness).toEqual({
      activity: new Date(T0).toISOString(),
      sessions: new Date(T0 - 1_000).toISOString(),
      affinities: new Date(T0 - 30_000).toISOString(),
      recentContent: new Date(T0 - 30_000).toISOString(),
      device: undefined,
      locale: new Date(T0 - 60_000).toISOString(),
    });
    expect(p!.updatedAt).toBe(new Date(T0 + 5_000).toISOString());
    expect(await reader.get('nobody')).toBeUndefined();
  });

  it('warms up at a service start, and says so when the table is not there', async () => {
    await table('warm', []);
    await new ProfileReader({ tableName: 'warm' }).warmUp({ timeoutMs: 5_000 });
    await expect(new ProfileReader({ tableName: 'no-such-table' }).warmUp()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('tells users without a profile apart from users it could not read', async () => {
    await table('many', ['a', 'b', 'c']);
    const got = await new ProfileReader({ tableName: 'many' }).getMany(['a', 'b', 'x', 'a', 'c', 'y']);
    expect([...got.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect([...got.absent].sort()).toEqual(['x', 'y']);
    expect(got.unread).toEqual([]);
    expect(got.complete).toBe(true);
  });

  it('answers within the deadline when the table stalls, and reads again once it answers', async () => {
    await table('stall', ['u-1', 'u-2']);
    const reader = new ProfileReader({ tableName: 'stall', timeoutMs: 150 });
    const pid = emulators().pid('dynamodb')!;
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      await expect(reader.get('u-1')).rejects.toBeInstanceOf(ReadDeadlineError);
      const many = await reader.getMany(['u-1', 'u-2']);
      const elapsed = Date.now() - started;
      expect(many.size).toBe(0);
      expect(many.failures).toMatchObject([{ reason: 'deadline' }]);
      expect([...many.unread].sort()).toEqual(['u-1', 'u-2']);
      // Two calls of 150 ms each: far below the client's own request timeout (3 s) and retries.
      expect(elapsed).toBeLessThan(2_500);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect((await reader.get('u-1', { timeoutMs: 5_000 }))?.userId).toBe('u-1');
  });

  it('stops when the caller aborts the request it serves', async () => {
    await table('abort', ['u-1']);
    const reader = new ProfileReader({ tableName: 'abort' });
    const controller = new AbortController();
    controller.abort();
    await expect(reader.get('u-1', { signal: controller.signal })).rejects.toBeInstanceOf(ReadDeadlineError);
  });
});

describe('ProfileReader.getMany partial results', () => {
  it('keeps the chunks that were read when another chunk stays unprocessed, and names the users missing', async () => {
    const reader = new ProfileReader({
      tableName: 't',
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
      sleep: async () => {},
      concurrency: 1,
      client: scripted(async (cmd) => {
        const keys = cmd.input.RequestItems.t.Keys as { user_id: string }[];
        // The chunk holding u-150 is throttled for good; within the other, one key is unprocessed once.
        if (keys.some((k) => k.user_id === 'u-150')) return { Responses: { t: [] }, UnprocessedKeys: { t: { Keys: keys } }, $metadata: {} };
        const [first, ...rest] = keys;
        const once = first!.user_id === 'u-0' && keys.length === 100;
        return { Responses: { t: (once ? rest : keys).map((k) => profile(k.user_id)) }, UnprocessedKeys: once ? { t: { Keys: [first] } } : {}, $metadata: {} };
      }),
    });
    const ids = Array.from({ length: 200 }, (_, i) => `u-${i}`);
    const got = await reader.getMany(ids);
    expect(got.size).toBe(100);
    expect(got.has('u-0')).toBe(true);
    expect(got.unread).toEqual(ids.slice(100));
    expect(got.failures).toMatchObject([{ reason: 'unprocessed' }]);
    expect(got.complete).toBe(false);
  });

  it('throws on a failure no retry can fix (no such table), instead of answering "nobody read"', async () => {
    const reader = new ProfileReader({
      tableName: 't',
      client: scripted(async () => {
        throw Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
      }),
    });
    await expect(reader.getMany(['a'])).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('refuses a deadline that is not a positive number of ms', () => {
    expect(() => new ProfileReader({ tableName: 't', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});
