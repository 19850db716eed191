import { CfnOutput, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { STAGE_VALUES, exportNameOf, parameterPathOf, type StageValueName } from '../../core/discovery/catalog';
import { InvariantError } from '../../core/errors';

export interface StageDiscoveryProps {
  /** Prefix of resource names (the SSM path starts with it). */
  readonly resourcePrefix: string;
  /** Name of the stage. */
  readonly stage: string;
}

/**
 * Publishes a stage's values (core/discovery/catalog.ts) where users look for them: a stack output with the
 * value's own name and a stack export, and an SSM String parameter under `/<prefix>/<stage>/`, so a service
 * finds the profile table's name at run time without reading CloudFormation.
 */
export class StageDiscovery extends Construct {
  /** `/<prefix>/<stage>/` */
  readonly parameterPath: string;
  private readonly published = new Map<StageValueName, ssm.StringParameter>();

  constructor(scope: Construct, id: string, props: StageDiscoveryProps) {
    super(scope, id);
    this.parameterPath = parameterPathOf(props.resourcePrefix, props.stage);
  }

  /** Publishes `value` as `name`: output and export at the stack's top level (no hashed id), and a parameter. */
  publish(name: StageValueName, value: string): void {
    if (this.published.has(name)) throw new InvariantError(`stage discovery: ${name} is published twice`);
    const stack = Stack.of(this);
    const { description } = STAGE_VALUES[name];
    new CfnOutput(stack, name, { value, description, exportName: exportNameOf(stack.stackName, name) });
    const parameter = new ssm.StringParameter(this, name, {
      parameterName: `${this.parameterPath}${name}`,
      stringValue: value,
      description,
      tier: ssm.ParameterTier.STANDARD,
    });
    this.published.set(name, parameter);
  }

  /** The parameter of a published value (to grant a service ssm:GetParameter on it). */
  parameter(name: StageValueName): ssm.IStringParameter | undefined {
    return this.published.get(name);
  }

  /** Lets `grantee` read every value of the stage from SSM (GetParameter(s), GetParametersByPath on the path). */
  grantRead(grantee: iam.IGrantable): void {
    for (const p of this.published.values()) p.grantRead(grantee);
  }
}
