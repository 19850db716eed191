/**
 * One run of the freshness canary, over three ports (put a probe, read a profile item, list curated
 * objects), so the deployed function and the local runtime run the same steps with their own clients:
 *
 * 1. put this slot's probe on the raw stream (event time = now);
 * 2. measure the lake freshness of the probe put one lake deadline ago: its event time comes from its profile
 *    (`first_seen`), and a probe that never reached its profile was already counted missing by step 3 of its
 *    own run (or was never put: the first runs after a deploy or a pause), so it is skipped;
 * 3. poll the new probe's profile until readable or its deadline, and measure its profile freshness.
 *
 * Every sample is published as a metric (core/canary/freshness.ts FRESHNESS_METRICS).
 */
import {
  freshnessProbe,
  lakeSample,
  probeDeadlines,
  probeLakePrefix,
  probeUserId,
  profileSample,
  type FreshnessProbe,
  type FreshnessSample,
} from '../../core/canary/freshness';
import type { FreshnessCanaryConfig } from './config';

export interface FreshnessCanaryPorts {
  /** Puts the probe's event on the raw stream (partition key: its user); throws when it could not. */
  readonly put: (probe: FreshnessProbe) => Promise<void>;
  /** The profile item of a user (strongly consistent), or undefined. */
  readonly profile: (userId: string) => Promise<{ readonly updated_at?: unknown; readonly first_seen?: unknown } | undefined>;
  /** The curated zone's objects under a prefix. */
  readonly lakeObjects: (prefix: string) => Promise<readonly { readonly key: string; readonly lastModifiedMs: number }[]>;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface CanaryRun {
  readonly probe: FreshnessProbe;
  readonly profile: FreshnessSample;
  /** The lake sample of the probe one lake deadline old, when there was one to measure. */
  readonly lake?: { readonly userId: string; readonly sample: FreshnessSample };
}

/** How often a probe's profile is read while waiting for it. */
export const PROFILE_POLL_MS = 2_000;

export class FreshnessCanary {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  readonly deadlines: { readonly profileSeconds: number; readonly lakeSeconds: number };

  constructor(
    readonly config: FreshnessCanaryConfig,
    private readonly ports: FreshnessCanaryPorts,
  ) {
    this.now = ports.now ?? Date.now;
    this.sleep = ports.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.deadlines = probeDeadlines({ profileSeconds: config.profileSloSeconds, lakeSeconds: config.lakeSloSeconds });
  }

  /** Step 1: puts the probe of the slot of `scheduledMs`. */
  async putProbe(scheduledMs: number): Promise<FreshnessProbe> {
    const probe = freshnessProbe(scheduledMs, this.now(), this.config.intervalSeconds);
    await this.ports.put(probe);
    return probe;
  }

  /** Step 3: reads the probe's profile until it is readable or the profile deadline has passed. */
  async profileFreshness(probe: FreshnessProbe, pollMs = PROFILE_POLL_MS): Promise<FreshnessSample> {
    for (;;) {
      const sample = profileSample(probe, await this.ports.profile(probe.userId), this.now(), this.deadlines.profileSeconds);
      if (sample) return sample;
      const left = probe.eventTimeMs + this.deadlines.profileSeconds * 1000 - this.now();
      await this.sleep(Math.max(0, Math.min(pollMs, left)));
    }
  }

  /**
   * The lake sample of the probe of `slot`, read now: undefined when the probe has no profile (never put, or
   * already counted missing on the profile path) or, before its deadline, no object yet.
   */
  async lakeFreshness(slot: number): Promise<{ userId: string; sample: FreshnessSample } | undefined> {
    const userId = probeUserId(slot);
    const item = await this.ports.profile(userId);
    const eventTimeMs = Number(item?.first_seen);
    if (!item || !Number.isFinite(eventTimeMs)) return undefined;
    const sample = lakeSample({ eventTimeMs }, await this.ports.lakeObjects(probeLakePrefix(eventTimeMs)), this.now(), this.deadlines.lakeSeconds);
    return sample ? { userId, sample } : undefined;
  }

  /** The slot whose probe is one lake deadline old at the slot of `scheduledMs`. */
  lakeSlotAt(probeSlot: number): number {
    return probeSlot - Math.ceil(this.deadlines.lakeSeconds / this.config.intervalSeconds);
  }

  /** One scheduled run: steps 1, 2 and 3. */
  async run(scheduledMs: number): Promise<CanaryRun> {
    const probe = await this.putProbe(scheduledMs);
    const lake = await this.lakeFreshness(this.lakeSlotAt(probe.slot));
    const profile = await this.profileFreshness(probe);
    return { probe, profile, ...(lake ? { lake } : {}) };
  }
}
