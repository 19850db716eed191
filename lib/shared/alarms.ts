/** How the platform's constructs create alarms: one helper, so every alarm notifies the same way. */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

export type AlarmOptions = Omit<cloudwatch.CreateAlarmOptions, 'treatMissingData'> & {
  /** @default TreatMissingData.NOT_BREACHING: no data (an idle stage) is not an alarm */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
};

export type AlarmFactory = (id: string, metric: cloudwatch.IMetric, options: AlarmOptions) => cloudwatch.Alarm;

/** Alarms in `scope` that notify `topic` (when there is one); no data is not an alarm unless said otherwise. */
export function alarmFactory(scope: Construct, topic: sns.ITopic | undefined): AlarmFactory {
  return (id, metric, options) => {
    const alarm = new cloudwatch.Alarm(scope, id, { metric, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...options });
    if (topic) alarm.addAlarmAction(new actions.SnsAction(topic));
    return alarm;
  };
}
