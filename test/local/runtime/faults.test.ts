/**
 * The outages the fault drill injects: a fixed duration, or (for a drill that must exercise the on-failure
 * path) until the failing function has given a range up, with a cap so a function that never gives up cannot
 * hold an outage forever.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { injectDynamoDbWriteOutage, OUTAGE_CAP_FACTOR, outageHolds } from '../../../local/runtime/faults';

describe('an injected outage', () => {
  it('holds for its duration from the first attempt, then heals', () => {
    expect(outageHolds(0, { durationMs: 1_000 })).toBe(true);
    expect(outageHolds(999, { durationMs: 1_000 })).toBe(true);
    expect(outageHolds(1_000, { durationMs: 1_000 })).toBe(false);
  });

  it('with healWhen, lasts past its duration until the function has given up', () => {
    let gaveUp = false;
    const options = { durationMs: 1_000, healWhen: () => gaveUp };
    expect(outageHolds(500, options)).toBe(true);
    expect(outageHolds(2_500, options)).toBe(true);
    gaveUp = true;
    expect(outageHolds(2_500, options)).toBe(false);
    // ... but never heals before its duration, given up or not
    expect(outageHolds(500, options)).toBe(true);
  });

  it('with healWhen, still ends at the cap when the function never gives up', () => {
    const options = { durationMs: 1_000, healWhen: () => false };
    expect(outageHolds(OUTAGE_CAP_FACTOR * 1_000 - 1, options)).toBe(true);
    expect(outageHolds(OUTAGE_CAP_FACTOR * 1_000, options)).toBe(false);
  });

  it("fails only the chosen users' writes, with a retryable server error", async () => {
    // Nothing listens on port 9: a write that passes the outage fails on the network instead.
    const client = new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const outage = injectDynamoDbWriteOutage(client, { userIds: ['u-down'], durationMs: 60_000 });
    const write = (user: string) =>
      client.send(new UpdateItemCommand({ TableName: 't', Key: { user_id: { S: user } }, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': { N: '1' } } }));
    await expect(write('u-down')).rejects.toMatchObject({ name: 'InternalServerError', $fault: 'server' });
    await expect(write('u-up')).rejects.not.toMatchObject({ name: 'InternalServerError' });
    expect(outage.failed()).toBe(1);
    outage.remove();
    client.destroy();
  });
});
