import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resolveStage, type StageConfig } from './config/stage-config';
import { PlatformStack } from './platform-stack';

export interface PlatformApp {
  readonly app: App;
  readonly stack: PlatformStack;
  readonly config: StageConfig;
}

/**
 * Builds the CDK app for the stage named by the `stage` context value (default 'dev'), with cdk-nag's
 * AwsSolutions checks as a policy-validation plugin: synthesis fails on any unacknowledged finding.
 */
export function createPlatformApp(props: AppProps = {}): PlatformApp {
  const app = new App(props);
  const config = resolveStage(app.node.tryGetContext('stage') ?? 'dev', app.node.tryGetContext('stages') ?? {});
  const stack = new PlatformStack(app, `PersonalizationPlatform-${config.name}`, {
    config,
    description: `Real-time personalization data platform (stage ${config.name})`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, config };
}
