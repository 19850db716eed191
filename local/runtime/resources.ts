/**
 * The resources of a stage, named from the same stage configuration as the stacks (`resourceName`), and
 * their creation on the emulators: the raw and validated streams with the configured shard counts, the
 * profile and ledger tables with their key schemas and TTL attributes, and the lake buckets.
 */
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  type AttributeDefinition,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { resourceName, type StageConfig } from '../../lib/config/stage-config';
import { dynamoDbClient, kinesisClient, s3Client } from '../../adapters/aws-clients';

export interface StageResourceNames {
  rawStream: string;
  validatedStream: string;
  profileTable: string;
  ledgerTable: string;
  validationFunction: string;
  aggregatorFunction: string;
  rawBucket: string;
  curatedBucket: string;
  quarantineBucket: string;
}

/**
 * Physical names of the stage's resources. Streams and the table carry the names the stacks give them; the
 * deployed buckets get generated names (globally unique), so locally they are named after their zone.
 */
export function stageResourceNames(config: StageConfig): StageResourceNames {
  return {
    rawStream: resourceName(config, 'events'),
    validatedStream: resourceName(config, 'validated'),
    profileTable: resourceName(config, 'profiles'),
    ledgerTable: resourceName(config, 'profile-ledger'),
    validationFunction: resourceName(config, 'validate'),
    aggregatorFunction: resourceName(config, 'aggregate'),
    rawBucket: resourceName(config, 'raw'),
    curatedBucket: resourceName(config, 'curated'),
    quarantineBucket: resourceName(config, 'quarantine'),
  };
}

/** Key schema and TTL attribute of a table, as the profile store construct defines it. */
export interface TableShape {
  keySchema: KeySchemaElement[];
  attributes: AttributeDefinition[];
  ttlAttribute?: string;
}

export interface ProvisionClients {
  kinesis?: KinesisClient;
  dynamodb?: DynamoDBClient;
  s3?: S3Client;
}

export async function provisionStage(
  config: StageConfig,
  names: StageResourceNames,
  tables: readonly { readonly name: string; readonly shape: TableShape }[],
  clients: ProvisionClients = {},
): Promise<void> {
  const kinesis = clients.kinesis ?? kinesisClient();
  const dynamodb = clients.dynamodb ?? dynamoDbClient();
  const s3 = clients.s3 ?? s3Client();
  await Promise.all([
    createStream(kinesis, names.rawStream, config.streams.rawShardCount),
    createStream(kinesis, names.validatedStream, config.streams.validatedShardCount),
    ...tables.map((t) => createTable(dynamodb, t.name, t.shape)),
    ...[names.rawBucket, names.curatedBucket, names.quarantineBucket].map((b) => createBucket(s3, b)),
  ]);
}

async function createStream(kinesis: KinesisClient, name: string, shards: number): Promise<void> {
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  } catch (err) {
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
  for (let i = 0; ; i++) {
    const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    if (i > 500) throw new Error(`stream ${name} did not become ACTIVE`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function createTable(dynamodb: DynamoDBClient, name: string, shape: TableShape): Promise<void> {
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: shape.keySchema,
        AttributeDefinitions: shape.attributes,
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (err) {
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
  for (let i = 0; ; i++) {
    const out = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
    if (out.Table?.TableStatus === 'ACTIVE') break;
    if (i > 500) throw new Error(`table ${name} did not become ACTIVE`);
    await new Promise((r) => setTimeout(r, 20));
  }
  if (shape.ttlAttribute) {
    try {
      await dynamodb.send(
        new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { Enabled: true, AttributeName: shape.ttlAttribute } }),
      );
    } catch (err) {
      // dynalite has no UpdateTimeToLive: items never expire locally, which a short run never notices.
      const e = err as Error & { $metadata?: { httpStatusCode?: number } };
      if (e.name !== 'UnknownOperationException' && e.name !== 'UnknownOperation' && e.$metadata?.httpStatusCode !== 400) throw err;
    }
  }
}

async function createBucket(s3: S3Client, name: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: name }));
    return;
  } catch {
    // absent: create it
  }
  await s3.send(new CreateBucketCommand({ Bucket: name }));
}
