import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ProfileAggregator, type ProfileAggregatorProps } from './profile-aggregator';
import { ProfileStore, type ProfileStoreProps } from './profile-store';

export { ProfileAggregator, type ProfileAggregatorProps, AGGREGATOR_SERVICE, METRICS_NAMESPACE } from './profile-aggregator';
export { ProfileStore, type ProfileStoreProps, PROFILE_PARTITION_KEY, PROFILE_TTL_ATTRIBUTE, LEDGER_SORT_KEY } from './profile-store';

export interface ProfilesProps {
  /** The validated stream the aggregator reads. */
  readonly validatedStream: kinesis.IStream;
  /** Every alarm notifies this topic. @default alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /** The profile store: names, billing, removal, or your own tables. @default ProfileStore's defaults */
  readonly store?: ProfileStoreProps;
  /** The aggregator's settings. @default ProfileAggregator's defaults */
  readonly aggregator?: Omit<ProfileAggregatorProps, 'validatedStream' | 'store' | 'alarmTopic'>;
  /** Physical name of the readers' managed policy. @default a generated name */
  readonly readerPolicyName?: string;
}

/**
 * User profiles: the profile store, the aggregator that keeps it up to date, and the managed policy
 * personalization services attach to read profiles (the stack publishes the names: lib/discovery).
 */
export class Profiles extends Construct {
  readonly store: ProfileStore;
  readonly table: dynamodb.ITable;
  readonly aggregator: ProfileAggregator;
  /** Attach to a personalization service's role: what ProfileStore.grantRead grants, as a managed policy. */
  readonly readerPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ProfilesProps) {
    super(scope, id);
    this.store = new ProfileStore(this, 'Store', props.store);
    this.table = this.store.table;
    this.aggregator = new ProfileAggregator(this, 'Aggregator', {
      ...props.aggregator,
      validatedStream: props.validatedStream,
      store: this.store,
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
    });
    this.readerPolicy = new iam.ManagedPolicy(this, 'ReaderPolicy', {
      ...(props.readerPolicyName ? { managedPolicyName: props.readerPolicyName } : {}),
      description: `Read user profiles from ${props.store?.tableName ?? 'the profile table'} (GetItem, BatchGetItem, DescribeTable) and nothing else`,
      statements: this.store.readerStatements(),
    });
  }

  /** Lets a personalization service read profiles (GetItem, BatchGetItem, DescribeTable on the profile table). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.store.grantRead(grantee);
  }
}
