import { Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** E-mail address subscribed to the topic. @default no subscription */
  readonly email?: string;
}

/**
 * The one SNS topic every alarm of the platform notifies. Encrypted with the AWS-managed SNS key (no key
 * cost; CloudWatch alarms can publish to it) and reachable only over TLS.
 */
export class AlarmTopic extends Construct {
  readonly topic: sns.ITopic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const topic = new sns.Topic(this, 'Topic', {
      displayName: `Personalization platform alarms (${Stack.of(this).stackName})`,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    if (props.email) topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    this.topic = topic;
  }
}
