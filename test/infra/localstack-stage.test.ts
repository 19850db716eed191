/**
 * The localstack stage (docs/localstack.md) synthesizes, passes every cdk-nag check, and leaves out what
 * LocalStack's Kinesis event-source poller does not implement: the aggregator has no tumbling window (per-batch
 * profile writes) and no event source waits for a batching window.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_STAGES, resolveStage } from '../../lib/config/stage-config';
import { synthesizeStage, violations, type SynthesizedStage } from './support';

describe('the localstack stage', () => {
  let s: SynthesizedStage;
  beforeAll(() => {
    s = synthesizeStage('localstack');
  });

  it('is the dev stage with per-batch profiles and no batching windows', () => {
    const dev = BUILT_IN_STAGES.dev!;
    const local = resolveStage('localstack');
    expect(local).toEqual({
      ...dev,
      name: 'localstack',
      validation: { ...dev.validation, maxBatchingWindowSeconds: 0 },
      profiles: { ...dev.profiles, windowSeconds: 0, maxBatchingWindowSeconds: 0 },
    });
  });

  it('synthesizes with every cdk-nag check passing', () => {
    expect(violations(s.report)).toEqual([]);
  });

  it('maps both functions to their streams without tumbling windows or batching windows', () => {
    // The stream functions' mappings (the erasure queue's SQS mapping has neither windows nor destinations).
    const mappings = (Object.values(s.template.findResources('AWS::Lambda::EventSourceMapping')) as { Properties: Record<string, unknown> }[]).filter((m) => m.Properties.StartingPosition !== undefined);
    expect(mappings.length).toBeGreaterThanOrEqual(2);
    for (const m of mappings) {
      expect(m.Properties.TumblingWindowInSeconds).toBeUndefined();
      expect(m.Properties.MaximumBatchingWindowInSeconds ?? 0).toBe(0);
      // What LocalStack does implement stays configured as in AWS.
      expect(m.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(m.Properties.DestinationConfig).toBeDefined();
    }
  });
});
