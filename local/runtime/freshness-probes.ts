/**
 * The freshness canary of the local runtime: the deployed canary's code (lambdas/freshness-canary/canary.ts
 * over the same SDK ports) on a timer of its own, a probe every LOCAL_PROBE_INTERVAL_SECONDS while the
 * workload runs. Each probe's profile freshness is measured as in AWS (polled until readable or its deadline);
 * lake freshness is measured for every probe once the lake buffers are flushed. The objectives are the stage's
 * rule applied to the local window and buffer: window + 60 s, buffer + 120 s.
 */
import { freshnessSlo, freshnessVerdict, type FreshnessProbe, type FreshnessSample, type FreshnessSlo, type FreshnessVerdict } from '../../core/canary/freshness';
import { FreshnessCanary } from '../../lambdas/freshness-canary/canary';
import { awsCanaryPorts } from '../../lambdas/freshness-canary/handler';
import type { StageResourceNames } from './resources';

/** Seconds between local probes (the deployed canary probes every minute). */
export const LOCAL_PROBE_INTERVAL_SECONDS = 5;

export interface FreshnessReport {
  readonly slo: FreshnessSlo;
  readonly probes: number;
  /** Probes that could not be put or read (an emulator error). */
  readonly failed: number;
  readonly profile: FreshnessVerdict;
  readonly lake: FreshnessVerdict;
}

class Stopped extends Error {}

export class LocalFreshnessProbes {
  private readonly canary: FreshnessCanary;
  private readonly slo: FreshnessSlo;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failed = 0;
  private readonly probes: FreshnessProbe[] = [];
  private readonly profileSamples: Promise<FreshnessSample | undefined>[] = [];

  constructor(names: Pick<StageResourceNames, 'rawStream' | 'profileTable' | 'curatedBucket'>, settings: { windowSeconds: number; bufferSeconds: number }) {
    this.slo = freshnessSlo({ windowSeconds: settings.windowSeconds, firehoseBufferSeconds: settings.bufferSeconds });
    const config = {
      rawStream: names.rawStream,
      profileTable: names.profileTable,
      curatedBucket: names.curatedBucket,
      intervalSeconds: LOCAL_PROBE_INTERVAL_SECONDS,
      profileSloSeconds: this.slo.profileSeconds,
      lakeSloSeconds: this.slo.lakeSeconds,
    };
    const sleep = (ms: number) =>
      this.stopped ? Promise.reject(new Stopped()) : new Promise<void>((resolve, reject) => setTimeout(() => (this.stopped ? reject(new Stopped()) : resolve()), ms).unref());
    this.canary = new FreshnessCanary(config, { ...awsCanaryPorts(config), sleep });
  }

  /** Puts a probe now and every interval after, until stop() or settle(). */
  start(): void {
    const probe = () => {
      if (this.stopped) return;
      const sample = this.canary.putProbe(Date.now()).then(
        (p) => {
          this.probes.push(p);
          return this.canary.profileFreshness(p);
        },
      );
      this.profileSamples.push(
        sample.catch((err: unknown) => {
          if (!(err instanceof Stopped)) this.failed++;
          return undefined;
        }),
      );
    };
    probe();
    this.timer = setInterval(probe, LOCAL_PROBE_INTERVAL_SECONDS * 1000);
    this.timer.unref();
  }

  /** No more probes; the ones out are still measured by report(). */
  pause(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops everything at once (Ctrl-C): waiting probes give up. */
  stop(): void {
    this.pause();
    this.stopped = true;
  }

  /** Waits for every probe's profile sample, then measures each probe's lake freshness (call it after the lake is flushed). */
  async report(): Promise<FreshnessReport> {
    this.pause();
    const profile = (await Promise.all(this.profileSamples)).filter((s): s is FreshnessSample => s !== undefined);
    const lake: FreshnessSample[] = [];
    for (const p of this.probes) {
      try {
        const measured = await this.canary.lakeFreshness(p.slot);
        if (measured) lake.push(measured.sample);
      } catch {
        this.failed++;
      }
    }
    return {
      slo: this.slo,
      probes: this.probes.length,
      failed: this.failed,
      profile: freshnessVerdict(profile, this.slo.profileSeconds),
      lake: freshnessVerdict(lake, this.slo.lakeSeconds),
    };
  }
}

/** One line per path for the summary: p50 and p95 against the objective. */
export function describeFreshness(r: FreshnessReport): string[] {
  const s = (x: number | undefined) => (x === undefined ? 'n/a' : `${x.toFixed(1)} s`);
  const line = (what: string, v: FreshnessVerdict) =>
    `  ${what}: p50 ${s(v.p50)}, p95 ${s(v.p95)} against the objective p95 <= ${v.sloSeconds} s: ${v.samples === 0 ? 'not measured' : v.met ? 'met' : 'NOT met'} (${v.samples} probes${v.missing ? `, ${v.missing} missing at the deadline` : ''})`;
  return [
    `Freshness SLO (canary: ${r.probes} probes, one every ${LOCAL_PROBE_INTERVAL_SECONDS} s${r.failed ? `, ${r.failed} failed` : ''})`,
    line('event time to profile readable', r.profile),
    line('event time to curated object', r.lake),
  ];
}
