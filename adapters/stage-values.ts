/**
 * Where a deployed stage publishes its names (core/discovery/catalog.ts), as records of name -> value: the
 * stack's outputs (CloudFormation DescribeStacks) and its SSM parameters under `/<prefix>/<stage>/`.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetParametersByPathCommand, SSMClient, type GetParametersByPathCommandOutput } from '@aws-sdk/client-ssm';

export type { CloudFormationClient, SSMClient };

/** The outputs of a stack by output name, or undefined when there is no such stack. */
export async function stackOutputs(stackName: string, client: CloudFormationClient = new CloudFormationClient({})): Promise<Record<string, string> | undefined> {
  const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = out.Stacks?.[0];
  if (!stack) return undefined;
  const record: Record<string, string> = {};
  for (const o of stack.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) record[o.OutputKey] = o.OutputValue;
  return record;
}

/** The String parameters directly under `path` (which ends with '/'), by name relative to it. */
export async function parametersUnder(path: string, client: SSMClient = new SSMClient({})): Promise<Record<string, string>> {
  const record: Record<string, string> = {};
  let token: string | undefined;
  do {
    const page: GetParametersByPathCommandOutput = await client.send(new GetParametersByPathCommand({ Path: path, Recursive: false, NextToken: token }));
    for (const p of page.Parameters ?? []) if (p.Name && p.Value !== undefined) record[p.Name.slice(path.length)] = p.Value;
    token = page.NextToken;
  } while (token);
  return record;
}
