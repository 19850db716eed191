/**
 * A DynamoDB document client of its own, with the project's timeouts and attempts, for the profile reader
 * package (which must not carry the other services' clients). Reads on a request path should fail fast: the
 * caller's deadline bounds them too.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CLIENT_LIMITS, sdkMaxAttempts, timedRequestHandler } from '../client-limits';

export type { DynamoDBDocumentClient };

export function createDocumentClient(): DynamoDBDocumentClient {
  const base = new DynamoDBClient({ requestHandler: timedRequestHandler(CLIENT_LIMITS.dynamodb), maxAttempts: sdkMaxAttempts(CLIENT_LIMITS.dynamodb) });
  return DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
}
