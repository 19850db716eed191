/**
 * Redeploying a stage after `cdk destroy`. A stage with `removal: 'retain'` keeps its streams, table, lake
 * buckets, Firehose log groups (and a customer managed stream key) when its stack is deleted; creating the
 * stack again then fails on every retained resource with a fixed name ("already exists"), and would start new,
 * empty buckets beside the retained ones. The way back is a CloudFormation resource import (`cdk import` with a
 * resource mapping), which adopts the retained resources into the new stack; `cdk deploy` then creates the rest.
 *
 * This module computes that mapping from the synthesized template: each retained resource's identifier comes
 * from its fixed name in the template, or, for generated names (buckets, the key), from the outputs of the
 * deployment that was destroyed (a `cdk deploy --outputs-file` file).
 */
import type { StageValues } from '../../core/discovery/catalog';

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
}
export interface SynthesizedTemplate {
  readonly Resources: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown }>;
}

/** `cdk import --resource-mapping` file: logical id -> the resource's import identifier. */
export type ResourceMapping = Record<string, Record<string, string>>;

export interface ImportPlan {
  readonly mapping: ResourceMapping;
  /** Retained resources with a generated name that nothing refers to: a redeploy creates new ones beside them. */
  readonly leftBehind: readonly { logicalId: string; type: string; why: string }[];
  /** Retained resources whose name only the previous outputs knew, and they do not say it. */
  readonly missing: readonly { logicalId: string; type: string; output?: string }[];
}

/** The retained resources of a template: what stays in the account after `cdk destroy`. */
export function retainedResources(template: SynthesizedTemplate): [string, TemplateResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.DeletionPolicy === 'Retain' || r.DeletionPolicy === 'RetainExceptOnCreate');
}

const literal = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The output whose value is `{Ref: id}` (or the resource's Arn), and that output's previous value. */
function fromOutputs(template: SynthesizedTemplate, previous: StageValues, logicalId: string, attribute?: 'Arn'): { output?: string; value?: string } {
  const want = JSON.stringify(attribute ? { 'Fn::GetAtt': [logicalId, attribute] } : { Ref: logicalId });
  const output = Object.entries(template.Outputs ?? {}).find(([, o]) => JSON.stringify(o.Value) === want)?.[0];
  return { output, value: output ? (previous as Record<string, string | undefined>)[output] : undefined };
}

/** The import mapping of every retained resource of `template`, given the destroyed deployment's outputs. */
export function importPlan(template: SynthesizedTemplate, previous: StageValues): ImportPlan {
  const mapping: ResourceMapping = {};
  const leftBehind: { logicalId: string; type: string; why: string }[] = [];
  const missing: { logicalId: string; type: string; output?: string }[] = [];
  const groupName = (v: unknown): string | undefined => {
    const ref = (v as { Ref?: string } | undefined)?.Ref;
    return ref ? literal(template.Resources[ref]?.Properties?.LogGroupName) : literal(v);
  };
  for (const [id, r] of retainedResources(template)) {
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::Kinesis::Stream':
        if (literal(p.Name)) mapping[id] = { Name: literal(p.Name)! };
        else missing.push({ logicalId: id, type: r.Type });
        break;
      case 'AWS::DynamoDB::Table':
        if (literal(p.TableName)) mapping[id] = { TableName: literal(p.TableName)! };
        else missing.push({ logicalId: id, type: r.Type });
        break;
      case 'AWS::Logs::LogGroup':
        if (literal(p.LogGroupName)) mapping[id] = { LogGroupName: literal(p.LogGroupName)! };
        else leftBehind.push({ logicalId: id, type: r.Type, why: 'generated name: the redeployed stack writes to a new log group; the old one keeps its logs until its retention expires' });
        break;
      case 'AWS::Logs::LogStream': {
        const group = groupName(p.LogGroupName);
        if (group && literal(p.LogStreamName)) mapping[id] = { LogGroupName: group, LogStreamName: literal(p.LogStreamName)! };
        else missing.push({ logicalId: id, type: r.Type });
        break;
      }
      case 'AWS::S3::Bucket': {
        const { output, value } = fromOutputs(template, previous, id);
        if (value) mapping[id] = { BucketName: value };
        else missing.push({ logicalId: id, type: r.Type, ...(output ? { output } : {}) });
        break;
      }
      case 'AWS::KMS::Key': {
        const { output, value } = fromOutputs(template, previous, id, 'Arn');
        if (value) mapping[id] = { KeyId: value.slice(value.lastIndexOf('/') + 1) };
        else missing.push({ logicalId: id, type: r.Type, ...(output ? { output } : {}) });
        break;
      }
      default:
        missing.push({ logicalId: id, type: r.Type });
    }
  }
  return { mapping, leftBehind, missing };
}
