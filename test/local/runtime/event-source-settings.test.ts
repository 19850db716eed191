/**
 * The local runtime's event-source settings against the deployed mappings: the synthesized
 * AWS::Lambda::EventSourceMapping of each function (and its timeout), for the built-in stages. And the SDK
 * limits against the same timeouts: one AWS call of a function, retries included, ends before the function
 * does (adapters/client-limits.ts).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlatformApp } from '../../../lib/app';
import { resolveStage } from '../../../lib/config/stage-config';
import type { PlatformStack } from '../../../lib/platform-stack';
import { FORWARD_RETRY_POLICY } from '../../../core/retry-policy';
import { CLIENT_LIMITS, worstCaseCallMs } from '../../../adapters/client-limits';
import { aggregationMapping, validationMapping, type MappingSettings } from '../../../local/runtime/event-source-settings';

interface Deployed {
  validation: MappingSettings & { parallelizationFactor: number; onFailure: boolean };
  aggregation: MappingSettings & { parallelizationFactor: number; onFailure: boolean };
  /** Timeout of the profile export function, when the stage deploys it. */
  exportTimeoutMs?: number;
}

const synthesized = new Map<string, Deployed>();

/** The stage synthesized once for every block of this file. */
function deployed(stage: string): Deployed {
  let d = synthesized.get(stage);
  if (!d) synthesized.set(stage, (d = synthesize(stage)));
  return d;
}

/** The runner's view of a function's deployed event-source mapping and timeout. */
function synthesize(stage: string): Deployed {
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
  const exportFn = stack.profileExport?.function;
  return {
    validation: of(stack.ingestion.validation.function),
    aggregation: of(stack.profiles.aggregator.function),
    ...(exportFn ? { exportTimeoutMs: Number(resources[stack.getLogicalId(exportFn.node.defaultChild as never)]!.Properties.Timeout) * 1000 } : {}),
  };
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

describe.each(['dev', 'prod'])('the SDK limits against the deployed function timeouts of the %s stage', (name) => {
  let d: Deployed;
  beforeAll(() => {
    d = deployed(name);
  }, 120_000);

  it("let the validation function's forward (Kinesis) and quarantine (signed S3 PUT) calls give up before it times out", () => {
    expect(worstCaseCallMs(CLIENT_LIMITS.kinesis)).toBeLessThan(d.validation.functionTimeoutMs);
    // The quarantine sink retries with the forward retry policy, not the SDK's backoff.
    const sinkBackoff = { transientBaseMs: FORWARD_RETRY_POLICY.baseDelayMs, throttlingBaseMs: FORWARD_RETRY_POLICY.baseDelayMs, maxMs: FORWARD_RETRY_POLICY.maxDelayMs };
    expect(worstCaseCallMs(CLIENT_LIMITS.quarantine, sinkBackoff)).toBeLessThan(d.validation.functionTimeoutMs);
    // Both in one invocation, quarantine first: still inside the deadline.
    expect(worstCaseCallMs(CLIENT_LIMITS.quarantine, sinkBackoff) + worstCaseCallMs(CLIENT_LIMITS.kinesis)).toBeLessThan(d.validation.functionTimeoutMs);
  });

  it("let the aggregator's and the profile export's DynamoDB calls give up before they time out", () => {
    expect(worstCaseCallMs(CLIENT_LIMITS.dynamodb)).toBeLessThan(d.aggregation.functionTimeoutMs);
    if (d.exportTimeoutMs !== undefined) expect(worstCaseCallMs(CLIENT_LIMITS.dynamodb)).toBeLessThan(d.exportTimeoutMs);
  });
});
