/**
 * Retry behaviour of the profile table adapter and the reader, with a scripted client standing in for
 * DynamoDB's throttling answers (which the emulator never gives). Reads and writes against dynalite are in
 * aggregator.integration.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoProfileTable } from '../../adapters/dynamodb/profile-table';
import { emptyProfile, type Profile } from '../../core/profiles/model';
import { ProfileReader } from '@personalization-data-platform/profile-reader';

type Send = (command: { constructor: { name: string }; input: Record<string, any> }) => Promise<unknown>;

function client(send: Send): DynamoDBDocumentClient {
  return { send } as unknown as DynamoDBDocumentClient;
}

const error = (name: string, status = 400) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const noWait = async () => {};

function profile(userId: string): Profile {
  return { ...emptyProfile(userId), first_seen: 1, last_seen: 2, events: 1, version: 3 };
}

describe('profile table adapter', () => {
  it('retries a throttled conditional update with backoff and reports the retries', async () => {
    const calls: string[] = [];
    const retries: string[] = [];
    const table = new DynamoProfileTable({
      tableName: 't',
      ledgerTableName: 'l',
      client: client(async (cmd) => {
        calls.push(cmd.constructor.name);
        if (calls.length < 3) throw error('ProvisionedThroughputExceededException');
        return { $metadata: { attempts: 1 } };
      }),
      sleep: noWait,
      onRetry: (kind) => retries.push(kind),
    });
    await expect(table.putIfVersion(profile('u'), 2)).resolves.toBe('ok');
    expect(calls).toEqual(['UpdateCommand', 'UpdateCommand', 'UpdateCommand']);
    expect(retries).toEqual(['throttle', 'throttle']);
  });

  it('writes the whole profile with one UpdateItem conditioned on the version it was merged from', async () => {
    let input: Record<string, any> = {};
    const table = new DynamoProfileTable({ tableName: 't', ledgerTableName: 'l', client: client(async (cmd) => ((input = cmd.input), { $metadata: {} })), sleep: noWait });
    await table.putIfVersion(profile('u'), 2);
    expect(input.ConditionExpression).toBe('#version = :expected');
    expect(input.ExpressionAttributeValues[':expected']).toBe(2);
    expect(input.Key).toEqual({ user_id: 'u' });
    expect(input.UpdateExpression).toMatch(/^SET /);
    // Optional attributes the merged profile does not have are removed, so a stale device cannot linger.
    expect(input.UpdateExpression).toMatch(/ REMOVE /);
    await table.putIfVersion(profile('v'), 0);
    expect(input.ConditionExpression).toBe('attribute_not_exists(#version)');
  });

  it("reports a failed condition as a conflict, not an error", async () => {
    const table = new DynamoProfileTable({ tableName: 't', ledgerTableName: 'l', client: client(async () => Promise.reject(error('ConditionalCheckFailedException'))), sleep: noWait });
    await expect(table.putIfVersion(profile('u'), 2)).resolves.toBe('conflict');
  });

  it('gives up after its attempts on a persistent transient error, and never retries a validation error', async () => {
    let calls = 0;
    const flaky = new DynamoProfileTable({ tableName: 't', ledgerTableName: 'l', client: client(async () => ((calls++), Promise.reject(error('InternalServerError', 500)))), sleep: noWait, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } });
    await expect(flaky.putIfVersion(profile('u'), 1)).rejects.toThrow('InternalServerError');
    expect(calls).toBe(3);
    calls = 0;
    const invalid = new DynamoProfileTable({ tableName: 't', ledgerTableName: 'l', client: client(async () => ((calls++), Promise.reject(error('ValidationException')))), sleep: noWait });
    await expect(invalid.putIfVersion(profile('u'), 1)).rejects.toThrow('ValidationException');
    expect(calls).toBe(1);
  });

  it('reads profiles and ledger items in one consistent BatchGetItem, re-requesting unprocessed keys', async () => {
    const requests: string[][] = [];
    const table = new DynamoProfileTable({
      tableName: 't',
      ledgerTableName: 'l',
      client: client(async (cmd) => {
        const items = cmd.input.RequestItems as Record<string, { Keys: Record<string, string>[]; ConsistentRead: boolean }>;
        for (const r of Object.values(items)) expect(r.ConsistentRead).toBe(true);
        const profileKeys = items.t?.Keys ?? [];
        const ledgerKeys = items.l?.Keys ?? [];
        requests.push([...profileKeys.map((k) => k.user_id!), ...ledgerKeys.map((k) => `${k.user_id}/${k.slot}`)]);
        const [first, ...rest] = profileKeys;
        return {
          Responses: { t: first ? [profile(first.user_id!)] : [], l: ledgerKeys.map((k) => ({ ...k, ids: new Set(['aaaaaaaa']), split: true })) },
          UnprocessedKeys: rest.length ? { t: { Keys: rest } } : {},
          $metadata: {},
        };
      }),
      sleep: noWait,
    });
    const got = await table.read(['a', 'b', 'c'], [{ userId: 'a', slot: '2026-03-01T14' }]);
    expect([...got.profiles.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(got.ledger.get('a')?.get('2026-03-01T14')).toEqual({ ids: new Set(['aaaaaaaa']), split: true });
    expect(requests).toEqual([['a', 'b', 'c', 'a/2026-03-01T14'], ['b', 'c'], ['c']]);
  });

  it('adds ids to a ledger item as a set union, and marks a split without touching its ids', async () => {
    const inputs: Record<string, any>[] = [];
    const table = new DynamoProfileTable({ tableName: 't', ledgerTableName: 'l', client: client(async (cmd) => (inputs.push(cmd.input), { $metadata: {} })), sleep: noWait });
    await table.writeLedger('u', [
      { slot: '2026-03-01T14', add: [], split: true, expiresAt: 99 },
      { slot: '2026-03-01T14:05', add: ['aaaaaaaa', 'bbbbbbbb'], split: false, expiresAt: 99 },
    ]);
    expect(inputs.map((i) => [i.TableName, i.Key, i.UpdateExpression])).toEqual([
      ['l', { user_id: 'u', slot: '2026-03-01T14' }, 'SET #ttl = :ttl, #split = :split'],
      ['l', { user_id: 'u', slot: '2026-03-01T14:05' }, 'SET #ttl = :ttl ADD #ids :ids'],
    ]);
    expect(inputs[1]!.ExpressionAttributeValues[':ids']).toEqual(new Set(['aaaaaaaa', 'bbbbbbbb']));
  });
});

describe('profile reader', () => {
  it('reads many users in BatchGetItem chunks of 100, without duplicate keys', async () => {
    const sizes: number[] = [];
    const reader = new ProfileReader({
      tableName: 't',
      client: client(async (cmd) => {
        const keys = cmd.input.RequestItems.t.Keys as { user_id: string }[];
        sizes.push(keys.length);
        return { Responses: { t: keys.map((k) => profile(k.user_id)) }, $metadata: {} };
      }),
      now: () => 10_000,
    });
    const ids = Array.from({ length: 250 }, (_, i) => `u-${i}`);
    const got = await reader.getMany([...ids, 'u-1', 'u-2']);
    expect(got.size).toBe(250);
    expect(sizes.sort((a, b) => b - a)).toEqual([100, 100, 50]);
    expect(got.get('u-7')).toMatchObject({ userId: 'u-7', lifetimeEvents: 1, secondsSinceLastSeen: 9 });
  });

  it('retries unprocessed keys with backoff and reports them as unread when they stay unprocessed', async () => {
    const waits: number[] = [];
    let rounds = 0;
    const reader = new ProfileReader({
      tableName: 't',
      client: client(async (cmd) => {
        rounds++;
        return { Responses: { t: [] }, UnprocessedKeys: { t: { Keys: cmd.input.RequestItems.t.Keys } }, $metadata: {} };
      }),
      retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 1_000 },
      random: () => 0.999,
      sleep: async (ms) => void waits.push(ms),
    });
    const got = await reader.getMany(['a', 'b']);
    expect(got.size).toBe(0);
    expect(got.complete).toBe(false);
    expect(got.failures).toMatchObject([{ ids: ['a', 'b'], reason: 'unprocessed' }]);
    expect(rounds).toBe(4);
    expect(waits).toEqual([9, 19, 39]);
  });

  it('reads one profile with a strongly consistent GetItem when asked', async () => {
    let input: Record<string, any> = {};
    const reader = new ProfileReader({ tableName: 't', client: client(async (cmd) => ((input = cmd.input), { Item: profile('u'), $metadata: {} })) });
    const p = await reader.get('u', { consistent: true });
    expect(input).toEqual({ TableName: 't', Key: { user_id: 'u' }, ConsistentRead: true });
    expect(p?.item.user_id).toBe('u');
    await reader.get('u');
    expect(input.ConsistentRead).toBe(false);
  });
});
