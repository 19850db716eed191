/**
 * Creating a table in a test the way DynamoDB asks it to be done: CreateTable returns while the table is still
 * CREATING, and a write to a CREATING table fails with ResourceNotFoundException (DynamoDB developer guide,
 * "Creating a table"; dynalite models it even with --createTableMs 0, and a loaded machine shows the gap).
 * So every test waits for ACTIVE before it writes.
 */
import { CreateTableCommand, waitUntilTableExists, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Creates an on-demand table and returns once it is ACTIVE. */
export async function createActiveTable(
  client: DynamoDBClient | DynamoDBDocumentClient,
  input: Omit<CreateTableCommandInput, 'BillingMode'>,
): Promise<void> {
  const base = client as DynamoDBClient;
  await base.send(new CreateTableCommand({ BillingMode: 'PAY_PER_REQUEST', ...input }));
  await waitUntilTableExists({ client: base, minDelay: 1, maxDelay: 1, maxWaitTime: 60 }, { TableName: input.TableName });
}

/** A table keyed by `user_id` only, as the profile table is. */
export const USER_KEYED = {
  KeySchema: [{ AttributeName: 'user_id', KeyType: 'HASH' as const }],
  AttributeDefinitions: [{ AttributeName: 'user_id', AttributeType: 'S' as const }],
};
