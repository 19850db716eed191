/**
 * The DynamoDB document client, in a module of its own: lib-dynamodb does not declare itself free of side
 * effects, so importing it from aws-clients.ts put ~45 KB of it into every bundle, the validation
 * function's included, which never touches DynamoDB.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDbClient } from '../aws-clients';

let document: DynamoDBDocumentClient | undefined;
let base: ReturnType<typeof dynamoDbClient> | undefined;

/** A document client over the shared DynamoDB client (rebuilt after resetClients() replaced that one). */
export function documentClient(): DynamoDBDocumentClient {
  const client = dynamoDbClient();
  if (document === undefined || base !== client) {
    document = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    base = client;
  }
  return document;
}
