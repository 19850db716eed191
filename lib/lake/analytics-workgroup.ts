import { Aws, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { loadNamedQueries, type NamedQuerySql } from './named-queries';

export interface AnalyticsWorkgroupProps {
  /** Name of the workgroup. */
  readonly workGroupName: string;
  /** Glue database the named queries run in. */
  readonly databaseName: string;
  /** Bucket of query results (encrypted with SSE-S3, expired by its lifecycle rule). */
  readonly resultsBucket: s3.IBucket;
  /** Largest amount of data one query may scan; larger queries are cancelled. @default Size.gibibytes(10) */
  readonly scanLimit?: Size;
  /**
   * DESTROY deletes the workgroup's saved queries and history with it; RETAIN refuses to delete a workgroup
   * that still has them.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Athena engine version of the workgroup: version 3 (Trino). */
export const ATHENA_ENGINE_VERSION = 'Athena engine version 3';

/**
 * The analysts' Athena workgroup: engine version 3, settings enforced (clients cannot override the result
 * location, encryption or scan limit), results encrypted in the results bucket, a per-query scan limit that
 * bounds the cost of a mistaken full scan, CloudWatch metrics; and the lake's named queries.
 */
export class AnalyticsWorkgroup extends Construct {
  readonly workGroup: athena.CfnWorkGroup;
  readonly workGroupName: string;
  readonly namedQueries: ReadonlyMap<string, athena.CfnNamedQuery>;
  readonly queries: readonly NamedQuerySql[];

  constructor(scope: Construct, id: string, props: AnalyticsWorkgroupProps) {
    super(scope, id);
    this.workGroupName = props.workGroupName;
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workGroupName,
      description: `Personalization lake analytics (${Stack.of(this).stackName})`,
      state: 'ENABLED',
      recursiveDeleteOption: (props.removalPolicy ?? RemovalPolicy.DESTROY) !== RemovalPolicy.RETAIN,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        engineVersion: { selectedEngineVersion: ATHENA_ENGINE_VERSION },
        bytesScannedCutoffPerQuery: (props.scanLimit ?? Size.gibibytes(10)).toBytes(),
        publishCloudWatchMetricsEnabled: true,
        requesterPaysEnabled: false,
        resultConfiguration: {
          outputLocation: `s3://${props.resultsBucket.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: Aws.ACCOUNT_ID,
        },
      },
    });

    this.queries = loadNamedQueries();
    const named = new Map<string, athena.CfnNamedQuery>();
    for (const q of this.queries) {
      const resource = new athena.CfnNamedQuery(this, `Query-${q.id}`, {
        name: q.name,
        description: q.description.slice(0, 1024),
        database: props.databaseName,
        workGroup: this.workGroup.ref,
        queryString: q.sql,
      });
      named.set(q.id, resource);
    }
    this.namedQueries = named;
  }
}
