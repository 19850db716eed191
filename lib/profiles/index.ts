import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { resourceName, stageLedgerRetentionHours, type StageConfig } from '../config/stage-config';
import { ProfileAggregator } from './profile-aggregator';
import { ProfileStore } from './profile-store';

export { ProfileAggregator, type ProfileAggregatorProps, AGGREGATOR_SERVICE, METRICS_NAMESPACE } from './profile-aggregator';
export { ProfileStore, type ProfileStoreProps, PROFILE_PARTITION_KEY, PROFILE_TTL_ATTRIBUTE, LEDGER_SORT_KEY } from './profile-store';

export interface ProfilesProps {
  readonly config: StageConfig;
  /** The validated stream the aggregator reads. */
  readonly validatedStream: kinesis.IStream;
  readonly alarmTopic: sns.ITopic;
}

/**
 * User profiles for one stage: the profile store, the aggregator that keeps it up to date, and the managed
 * policy personalization services attach to read profiles (the stack publishes the names: lib/discovery).
 */
export class Profiles extends Construct {
  readonly store: ProfileStore;
  readonly table: dynamodb.Table;
  readonly aggregator: ProfileAggregator;
  /** Attach to a personalization service's role: what ProfileStore.grantRead grants, as a managed policy. */
  readonly readerPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ProfilesProps) {
    super(scope, id);
    const { config } = props;
    this.store = new ProfileStore(this, 'Store', {
      config: config.profiles,
      removal: config.removal,
      tableName: resourceName(config, 'profiles'),
      ledgerTableName: resourceName(config, 'profile-ledger'),
    });
    this.table = this.store.table;
    this.aggregator = new ProfileAggregator(this, 'Aggregator', {
      validatedStream: props.validatedStream,
      store: this.store,
      config: config.profiles,
      alarmTopic: props.alarmTopic,
      ledgerRetentionHours: stageLedgerRetentionHours(config),
      iteratorAgeAlarmSeconds: config.alarms.iteratorAgeSeconds,
      functionName: resourceName(config, 'aggregate'),
    });
    this.readerPolicy = new iam.ManagedPolicy(this, 'ReaderPolicy', {
      managedPolicyName: resourceName(config, 'profile-reader'),
      description: `Read user profiles from ${resourceName(config, 'profiles')} (GetItem, BatchGetItem) and nothing else`,
      statements: this.store.readerStatements(),
    });
  }

  /** Lets a personalization service read profiles (GetItem, BatchGetItem). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.store.grantRead(grantee);
  }
}
