import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** E-mail address subscribed to the topic. @default no subscription */
  readonly email?: string;
}

/** Service principals that publish to the alarm topic: CloudWatch alarms. */
export const ALARM_PUBLISHERS = ['cloudwatch.amazonaws.com'] as const;

/**
 * The one SNS topic every alarm of the platform notifies, reachable only over TLS and encrypted with its own
 * customer managed key (rotated yearly).
 *
 * Not the AWS managed key alias/aws/sns: a service that publishes to an encrypted topic must be allowed
 * kms:GenerateDataKey* and kms:Decrypt on the topic's key, and the AWS managed key's policy cannot be changed
 * to allow cloudwatch.amazonaws.com (SNS Developer Guide, "Key management", compatibility with AWS services),
 * so every alarm action would fail. The key costs $1 a month plus requests; it protects alarm messages only and
 * is deleted (after 7 days) with the stack.
 */
export class AlarmTopic extends Construct {
  readonly topic: sns.ITopic;
  /** The topic's key; its policy lets ALARM_PUBLISHERS encrypt messages for the topic. */
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the alarm topic of ${stack.stackName}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // The statement the SNS guide documents, without conditions: a condition the KMS request does not carry
    // would silently drop every notification again. The key encrypts nothing but alarm messages.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAlarmPublishersToEncrypt',
        principals: ALARM_PUBLISHERS.map((p) => new iam.ServicePrincipal(p)),
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    const topic = new sns.Topic(this, 'Topic', {
      displayName: `Personalization platform alarms (${stack.stackName})`,
      masterKey: this.key,
      enforceSSL: true,
    });
    // The topic policy replaces the default one, so CloudWatch is allowed explicitly, for this account's alarms only.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAlarmsToPublish',
        principals: ALARM_PUBLISHERS.map((p) => new iam.ServicePrincipal(p)),
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
        },
      }),
    );
    if (props.email) topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    this.topic = topic;
  }
}
