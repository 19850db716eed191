import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Partition key of the profile table (one item per user). */
export const PROFILE_PARTITION_KEY = 'user_id';
/** TTL attribute of the profile table (epoch seconds: last_seen + ttlDays) and of the ledger. */
export const PROFILE_TTL_ATTRIBUTE = 'expires_at';
/** Sort key of the ledger of applied event ids (partition key user_id): the event-time slot. */
export const LEDGER_SORT_KEY = 'slot';
/** What a personalization service may do with the profile table: read items, and describe the table. */
export const PROFILE_READER_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:DescribeTable'] as const;
/** Operations whose throttling the store's alarm watches: the aggregator's and the readers'. */
export const PROFILE_TABLE_OPERATIONS = [dynamodb.Operation.GET_ITEM, dynamodb.Operation.BATCH_GET_ITEM, dynamodb.Operation.UPDATE_ITEM] as const;
/** Operations on the ledger (the aggregator's only). */
export const LEDGER_TABLE_OPERATIONS = [dynamodb.Operation.BATCH_GET_ITEM, dynamodb.Operation.UPDATE_ITEM] as const;

export interface ProfileStoreProps {
  /** Physical table name. @default a generated name */
  readonly tableName?: string;
  /** Physical name of the ledger table. @default a generated name */
  readonly ledgerTableName?: string;
  /** On-demand (no idle cost) or provisioned capacity (cheaper when steady). @default BillingMode.PAY_PER_REQUEST */
  readonly billingMode?: dynamodb.BillingMode;
  /** Read capacity units of each table in provisioned mode. @default 5 */
  readonly readCapacity?: number;
  /** Write capacity units of each table in provisioned mode. @default 5 */
  readonly writeCapacity?: number;
  /** Whether profiles expire (DynamoDB TTL on `expires_at`, which the aggregator sets). @default true */
  readonly timeToLive?: boolean;
  /**
   * What happens to both tables when the stack is deleted; RETAIN also turns on deletion protection.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Bring your own profile table (partition key `user_id`, a string; TTL on `expires_at` if profiles
   * should expire). The store then creates only the ledger.
   * @default a new table
   */
  readonly existingTable?: dynamodb.ITable;
  /** Bring your own ledger table (partition key `user_id`, sort key `slot`, both strings; TTL on `expires_at`). @default a new table */
  readonly existingLedgerTable?: dynamodb.ITable;
}

/**
 * The profile table: one item per user (partition key `user_id`), encrypted with the AWS-managed DynamoDB
 * key, point-in-time recovery on, a TTL on `expires_at` so inactive profiles expire at no cost, on-demand
 * billing by default, and deletion protection plus RETAIN when the removal policy retains.
 *
 * Beside it, the ledger of applied event ids (core/profiles/ledger.ts): partition key `user_id`, sort
 * key `slot` (an event-time slot), the same encryption, billing, recovery and retention, and a TTL that
 * removes a slot's ids once no copy of its events can be applied any more. Only the aggregator uses it.
 *
 * Either table can be brought (`existingTable`, `existingLedgerTable`); the grants and metrics then apply to it.
 */
export class ProfileStore extends Construct {
  readonly table: dynamodb.ITable;
  readonly ledger: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: ProfileStoreProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const common = {
      partitionKey: { name: PROFILE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      ...((props.billingMode ?? dynamodb.BillingMode.PAY_PER_REQUEST) === dynamodb.BillingMode.PAY_PER_REQUEST
        ? { billingMode: dynamodb.BillingMode.PAY_PER_REQUEST }
        : { billingMode: dynamodb.BillingMode.PROVISIONED, readCapacity: props.readCapacity ?? 5, writeCapacity: props.writeCapacity ?? 5 }),
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    };
    this.table =
      props.existingTable ??
      new dynamodb.Table(this, 'Table', {
        ...(props.tableName ? { tableName: props.tableName } : {}),
        ...common,
        ...(props.timeToLive ?? true ? { timeToLiveAttribute: PROFILE_TTL_ATTRIBUTE } : {}),
      });
    this.ledger =
      props.existingLedgerTable ??
      new dynamodb.Table(this, 'Ledger', {
        ...(props.ledgerTableName ? { tableName: props.ledgerTableName } : {}),
        ...common,
        sortKey: { name: LEDGER_SORT_KEY, type: dynamodb.AttributeType.STRING },
        timeToLiveAttribute: PROFILE_TTL_ATTRIBUTE,
      });
  }

  /**
   * Lets a personalization service read profiles: GetItem and BatchGetItem on the profile table (and
   * DescribeTable, which readers use to check the table), nothing on the ledger, nothing else.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: [...PROFILE_READER_ACTIONS], resourceArns: [this.table.tableArn] });
  }

  /** What grantRead grants, as policy statements (the readers' managed policy). */
  readerStatements(): iam.PolicyStatement[] {
    return [new iam.PolicyStatement({ sid: 'ReadProfiles', actions: [...PROFILE_READER_ACTIONS], resources: [this.table.tableArn] })];
  }

  /**
   * What the aggregator needs: consistent batch reads of profiles and ledger items (one BatchGetItem reads
   * both), conditional updates of whole profiles, set-union updates of ledger items, and the link items of
   * identity stitching (PutItem, and DeleteItem of a claim that lost to another user's).
   */
  grantAggregate(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn, this.ledger.tableArn],
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'], resourceArns: [this.ledger.tableArn] });
    return grant;
  }

  /** What the curated lake's gate needs: a Query of the tombstones' partition of the ledger table. */
  grantReadTombstones(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:Query'], resourceArns: [this.ledger.tableArn] });
  }

  /**
   * What an erasure needs: read a profile and replace it with a tombstone (GetItem, PutItem); find and delete
   * a key's ledger items and links (Query, BatchWriteItem); write the tombstone's hash (PutItem).
   */
  grantErase(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resourceArns: [this.table.tableArn] });
    iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:PutItem'], resourceArns: [this.ledger.tableArn] });
    return grant;
  }

  /** Throttled requests of the aggregator's and readers' operations on both tables, summed. */
  metricThrottledRequests(props: cloudwatch.MetricOptions = {}): cloudwatch.IMetric {
    const usingMetrics: Record<string, cloudwatch.IMetric> = {};
    const add = (prefix: string, table: dynamodb.ITable, operations: readonly dynamodb.Operation[]) => {
      for (const operation of operations) {
        usingMetrics[`${prefix}${operation.toLowerCase()}`] = table.metric('ThrottledRequests', {
          dimensionsMap: { TableName: table.tableName, Operation: operation },
          statistic: cloudwatch.Stats.SUM,
          period: Duration.minutes(5),
          ...props,
        });
      }
    };
    add('profiles_', this.table, PROFILE_TABLE_OPERATIONS);
    add('ledger_', this.ledger, LEDGER_TABLE_OPERATIONS);
    return new cloudwatch.MathExpression({
      // FILL: a period without throttling has no data points, which would leave the sum empty.
      expression: Object.keys(usingMetrics).map((id) => `FILL(${id}, 0)`).join(' + '),
      usingMetrics,
      label: 'Throttled requests (profiles and ledger)',
      period: props.period ?? Duration.minutes(5),
    });
  }
}
