import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { METRICS_NAMESPACE } from './metrics';

/** The Lambda runtime of every function of the platform: the current Node.js runtime. */
export const PLATFORM_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** esbuild target matching PLATFORM_RUNTIME. */
export const PLATFORM_BUNDLE_TARGET = 'node24';

/**
 * Bundling shared by every function (and by the bundle-size benchmark): ES module output, the AWS SDK v3
 * bundled from its ES module build (smaller and faster to import than its CommonJS build, and pinned to the
 * version we test rather than the one the runtime happens to ship), minified, with source maps.
 */
export const PLATFORM_BUNDLING = {
  format: OutputFormat.ESM,
  target: PLATFORM_BUNDLE_TARGET,
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  externalModules: [] as string[],
  // Some CommonJS dependencies call require(); ESM output needs it defined.
  banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
};

/**
 * Module substitutions of every bundle: the SDK's default credential chain (environment, SSO, INI files,
 * process, web identity, ECS and instance metadata: ~135 KB) is replaced by environment credentials, which
 * is where Lambda puts them. Tests and the local runtime keep the full chain.
 */
export const PLATFORM_BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': join(__dirname, '..', '..', 'adapters', 'lambda-credentials.ts'),
};

/** PLATFORM_BUNDLE_ALIASES as esbuild command-line arguments. */
export function aliasArgs(aliases: Readonly<Record<string, string>> = PLATFORM_BUNDLE_ALIASES): Record<string, string> {
  return Object.fromEntries(Object.entries(aliases).map(([from, to]) => [`--alias:${from}`, to]));
}

export interface PlatformFunctionProps extends Omit<NodejsFunctionProps, 'entry' | 'runtime' | 'architecture'> {
  /** Path of the handler module relative to the repository's `lambdas/` folder, e.g. 'validate/handler.ts'. */
  readonly handlerPath: string;
  /** Service name in structured logs and the namespace dimension of metrics. */
  readonly serviceName: string;
}

/** What a function may do with its own log group: what the Lambda service needs to write its logs there. */
export const FUNCTION_LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;

/**
 * A Lambda function of the platform: current Node.js runtime on ARM64 (about 20% cheaper per GB-second),
 * bundled without Docker, structured JSON logs kept for a bounded time, X-Ray tracing active.
 *
 * Its role starts empty: it may write its own log group (logs:CreateLogStream and logs:PutLogEvents on that
 * group), not every log group of the account as AWSLambdaBasicExecutionRole would allow (its three logs
 * actions on "*"); the log group exists before the function, so it needs no logs:CreateLogGroup either.
 */
export class PlatformFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    const { handlerPath, serviceName, environment, bundling, ...rest } = props;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${scope.node.path}/${id}`,
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'WriteOwnLogs', actions: [...FUNCTION_LOG_ACTIONS], resources: [logGroup.logGroupArn] }));
    super(scope, id, {
      role,
      entry: join(__dirname, '..', '..', 'lambdas', handlerPath),
      handler: 'handler',
      runtime: PLATFORM_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(60),
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        ...environment,
      },
      bundling: { ...PLATFORM_BUNDLING, ...bundling, esbuildArgs: { ...aliasArgs(), ...bundling?.esbuildArgs } },
      ...rest,
    });
  }
}
