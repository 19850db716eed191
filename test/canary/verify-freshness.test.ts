/**
 * `npm run verify`'s freshness check against a deployed stage. There is no CloudWatch emulator to run it
 * against, so a fake answers the two GetMetricStatistics calls as CloudWatch documents them ("you must
 * specify Statistics or ExtendedStatistics": one call each), and the test checks the requests as well.
 */
import { GetMetricStatisticsCommand, type GetMetricStatisticsCommandOutput } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { CheckFailed, freshnessCanaryMeasuring } from '../../scripts/verify/stage-verification';

const NOW = new Date('2026-06-15T12:00:00Z');

function fakeCloudWatch(answer: (input: GetMetricStatisticsCommand['input']) => GetMetricStatisticsCommandOutput) {
  const requests: GetMetricStatisticsCommand['input'][] = [];
  return {
    requests,
    send: async (command: unknown) => {
      if (!(command instanceof GetMetricStatisticsCommand)) throw new Error('unexpected command');
      requests.push(command.input);
      return answer(command.input);
    },
  };
}

describe("verify's freshness canary check", () => {
  it('reports the samples of the last 15 minutes with their p95 and maximum', async () => {
    const cw = fakeCloudWatch((input) =>
      input.ExtendedStatistics
        ? { Datapoints: [{ ExtendedStatistics: { p95: 131.4 } }], $metadata: {} }
        : { Datapoints: [{ SampleCount: 15, Maximum: 140.2 }], $metadata: {} },
    );
    const detail = await freshnessCanaryMeasuring(cw as never, 'pdp-prod-freshness-canary', NOW);
    expect(detail).toBe('15 probes in the last 15 minutes, event time to profile readable p95 131.4 s, max 140.2 s (the freshness alarms judge it against the objective)');
    expect(cw.requests).toHaveLength(2);
    for (const r of cw.requests) {
      expect(r).toMatchObject({ Namespace: 'PersonalizationPlatform', MetricName: 'ProfileFreshness', Dimensions: [{ Name: 'service', Value: 'freshness-canary' }], Period: 900 });
      expect(r.EndTime!.getTime() - r.StartTime!.getTime()).toBe(900_000);
      expect(Boolean(r.Statistics) !== Boolean(r.ExtendedStatistics)).toBe(true);
    }
  });

  it('fails, saying what to do, when the canary published nothing', async () => {
    const cw = fakeCloudWatch(() => ({ Datapoints: [], $metadata: {} }));
    const check = freshnessCanaryMeasuring(cw as never, 'pdp-prod-freshness-canary', NOW);
    await expect(check).rejects.toBeInstanceOf(CheckFailed);
    await expect(freshnessCanaryMeasuring(cw as never, 'pdp-prod-freshness-canary', NOW)).rejects.toThrow(/pdp-prod-freshness-canary\) is not running or not publishing; right after a first deploy/);
  });
});
