/**
 * The local runtime's event-source settings against the deployed mappings: the synthesized
 * AWS::Lambda::EventSourceMapping of each function (and its timeout), for the built-in stages.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlatformApp } from '../../../lib/app';
import { resolveStage } from '../../../lib/config/stage-config';
import type { PlatformStack } from '../../../lib/platform-stack';
import { aggregationMapping, validationMapping, type MappingSettings } from '../../../local/runtime/event-source-settings';

interface Deployed {
  validation: MappingSettings & { parallelizationFactor: number; onFailure: boolean };
  aggregation: MappingSettings & { parallelizationFactor: number; onFailure: boolean };
}

/** The runner's view of a function's deployed event-source mapping and timeout. */
function deployed(stage: string): Deployed {
  const { stack } = createPlatformApp({ context: { stage }, builtinCloudFormationValidation: false } as never) as { stack: PlatformStack };
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const of = (fn: { node: { defaultChild?: unknown } }) => {
    const id = stack.getLogicalId(fn.node.defaultChild as never);
    const mappings = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Lambda::EventSourceMapping' && (r.Properties.FunctionName as { Ref?: string }).Ref === id,
    );
    expect(mappings).toHaveLength(1);
    const m = mappings[0]!.Properties;
    return {
      startingPosition: m.StartingPosition,
      batchSize: m.BatchSize,
      maxBatchingWindowMs: Number(m.MaximumBatchingWindowInSeconds ?? 0) * 1000,
      reportBatchItemFailures: ((m.FunctionResponseTypes ?? []) as string[]).includes('ReportBatchItemFailures'),
      bisectBatchOnError: m.BisectBatchOnFunctionError === true,
      retryAttempts: m.MaximumRetryAttempts,
      maxRecordAgeSeconds: m.MaximumRecordAgeInSeconds,
      ...(m.TumblingWindowInSeconds ? { tumblingWindowSeconds: m.TumblingWindowInSeconds } : {}),
      functionTimeoutMs: Number(resources[id]!.Properties.Timeout) * 1000,
      parallelizationFactor: Number(m.ParallelizationFactor ?? 1),
      onFailure: (m.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination !== undefined,
    } as Deployed['validation'];
  };
  return { validation: of(stack.ingestion.validation.function), aggregation: of(stack.profiles.aggregator.function) };
}

describe.each(['dev', 'prod'])('the local event-source settings of the %s stage', (name) => {
  const stage = resolveStage(name);
  let d: Deployed;
  beforeAll(() => {
    d = deployed(name);
  }, 120_000);

  it('are the validation mapping, setting for setting, with one batch per shard at a time and an on-failure destination', () => {
    const { parallelizationFactor, onFailure, ...settings } = d.validation;
    expect(validationMapping(stage)).toEqual(settings);
    expect(parallelizationFactor).toBe(stage.validation.parallelizationFactor);
    expect(parallelizationFactor).toBe(1);
    expect(onFailure).toBe(true);
  });

  it("are the aggregation mapping with the stage's window, and differ only in the window with a shorter --window", () => {
    const { parallelizationFactor, onFailure, ...settings } = d.aggregation;
    expect(aggregationMapping(stage, stage.profiles.windowSeconds)).toEqual(settings);
    expect(aggregationMapping(stage, 5)).toEqual({ ...settings, tumblingWindowSeconds: 5 });
    expect(aggregationMapping(stage, 0)).not.toHaveProperty('tumblingWindowSeconds');
    expect(parallelizationFactor).toBe(1);
    expect(onFailure).toBe(true);
  });
});
