/**
 * Stitching through the real DynamoDB adapter (dynalite): the link item in the ledger table, the frozen
 * anonymous profile, and the reader resolving an anonymous id to the user's profile.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
import { DEFAULT_PROFILE_SETTINGS } from '../../core/profiles/model';
import { DynamoProfileTable } from '../../adapters/dynamodb/profile-table';
import { documentClient } from '../../adapters/dynamodb/document-client';
import { dynamoDbClient } from '../../adapters/aws-clients';
import { ProfileReader } from '@personalization-data-platform/profile-reader';
import { sequenceNumber, simulateShard } from '../../local/memory/simulated-source';
import { LEDGER_TABLE_SHAPE, PROFILE_TABLE_SHAPE } from '../../local/runtime/profiles-stage';
import { useEmulators } from '../support/emulators';
import { createActiveTable } from '../support/tables';

useEmulators({ dynamodb: true });

const T0 = Date.now() - 3_600_000;
const NO_FAULTS = { random: () => 1, crashAfter: 0, redeliver: 0, reprocessWindow: 0, maxBatch: 100 };

function event(i: number, fields: Partial<BehaviouralEvent>): BehaviouralEvent {
  return { schema_version: '1.1', event_id: `e-${i}`, session_id: 's', event_type: 'page_view', event_time: new Date(T0 + i * 1000).toISOString(), ...fields } as BehaviouralEvent;
}

describe('stitching on DynamoDB', () => {
  it('links, freezes and absorbs; the reader resolves the anonymous id to the user and says so', async () => {
    const id = randomUUID().slice(0, 8);
    const tableName = `profiles-${id}`;
    const ledgerTableName = `ledger-${id}`;
    for (const [name, shape] of [[tableName, PROFILE_TABLE_SHAPE], [ledgerTableName, LEDGER_TABLE_SHAPE]] as const) {
      await createActiveTable(dynamoDbClient(), { TableName: name, KeySchema: shape.keySchema, AttributeDefinitions: shape.attributes });
    }
    const store = new DynamoProfileTable({ tableName, ledgerTableName, client: documentClient() });
    const records = (events: BehaviouralEvent[], shard: number) =>
      events.map((e, i) => ({ sequenceNumber: sequenceNumber(shard, i + 1), data: Buffer.from(JSON.stringify(e)).toString('base64'), arrivalMs: T0 }));
    const options = { store, settings: DEFAULT_PROFILE_SETTINGS, windowMs: 0, faults: NO_FAULTS };

    await simulateShard('shard-1', records([event(1, { anonymous_id: 'dev-9' }), event(2, { anonymous_id: 'dev-9', event_type: 'click' })], 1), options);
    const reader = new ProfileReader({ tableName });
    expect((await reader.get({ anonymousId: 'dev-9' }, { consistent: true }))?.resolvedTo).toEqual({ kind: 'anonymous', anonymousId: 'dev-9' });

    await simulateShard('shard-0', records([event(3, { user_id: 'u-9', anonymous_id: 'dev-9', event_type: 'identify' })], 0), options);
    await simulateShard('shard-1', records([event(4, { anonymous_id: 'dev-9' }), event(1, { anonymous_id: 'dev-9' })], 1), options);

    const viaDevice = await reader.get({ anonymousId: 'dev-9' }, { consistent: true });
    expect(viaDevice?.resolvedTo).toEqual({ kind: 'user', userId: 'u-9', viaAnonymousId: 'dev-9' });
    expect(viaDevice?.item.counts).toEqual({ page_view: 2, click: 1, identify: 1 });
    expect((await reader.get('u-9', { consistent: true }))?.resolvedTo).toEqual({ kind: 'user', userId: 'u-9' });
    const link = await documentClient().send(new GetCommand({ TableName: ledgerTableName, Key: { user_id: 'u-9', slot: 'link#dev-9' }, ConsistentRead: true }));
    expect(link.Item?.expires_at).toBeGreaterThan(Date.now() / 1000);
  });
});
