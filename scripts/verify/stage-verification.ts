/**
 * The post-deploy verification of a stage (`npm run verify`), built on the same black box as the end-to-end
 * suite: canary events go in with PutRecords, and the checks read only what a user of the stage can read (the
 * profile table, the lake buckets, the stage's alarms and schedule). The canaries follow the convention of
 * core/canary: reserved users that no KPI or reconciliation counts, removed from the profile table
 * afterwards.
 *
 * What a target does not model (the local runtime has no CloudWatch alarms and no Scheduler) is reported as
 * "N/A" with the reason the target gives, never as a pass.
 */
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricStatisticsCommand, type DescribeAlarmsCommandOutput } from '@aws-sdk/client-cloudwatch';
import { FRESHNESS_METRICS } from '../../core/canary/freshness';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { canaryBatch, newCanaryRunId, type CanaryBatch } from '../../core/canary';
import { eventTimePartition, hourPartition, partitionPath, ZONE_PREFIX } from '../../core/lake/layout';
import type { ResolvedStage } from '../../clients/stage/resolve';
import type { StageValueName } from '../../core/discovery/catalog';
import { BlackBox, type Names } from './black-box';

export type CheckStatus = 'PASS' | 'FAIL' | 'N/A';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
  readonly seconds: number;
}

/**
 * Canary users of a run: 5 users' 20 valid events keep the run's one invalid record under 5% of what it sends,
 * the default quarantine-ratio alarm threshold, so verifying an idle stage twice in a row cannot raise it.
 */
export const DEFAULT_CANARY_USERS = 5;

export interface VerifyOptions {
  readonly resolved: ResolvedStage;
  /** How long to wait for the canaries to reach the profiles and the lake (windows, Firehose buffers). */
  readonly timeoutMs: number;
  /** Canary users with valid events. @default DEFAULT_CANARY_USERS */
  readonly users?: number;
  /** Leave the canary profiles in the table (to inspect them). @default false */
  readonly keepCanaries?: boolean;
  readonly progress?: (line: string) => void;
  readonly cloudwatch?: CloudWatchClient;
  readonly scheduler?: SchedulerClient;
}

export interface VerifyReport {
  readonly runId: string;
  readonly results: readonly CheckResult[];
  /** No check failed (N/A is not a failure; the table says why it could not be checked). */
  readonly ok: boolean;
}

/** How far back the freshness check looks for the canary's samples. */
const FRESHNESS_LOOKBACK_MS = 15 * 60_000;

/** Thrown inside a check: its message is the FAIL detail. */
export class CheckFailed extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The black box's names from the resolved stage (the values every target has). */
export function blackBoxNames(values: ResolvedStage['values']): Names {
  const need = (n: StageValueName) => {
    const v = values[n];
    if (!v) throw new Error(`the stage has no ${n}`);
    return v;
  };
  return {
    rawStream: need('RawStreamName'),
    profileTable: need('ProfileTableName'),
    rawBucket: need('RawBucketName'),
    curatedBucket: need('CuratedBucketName'),
    quarantineBucket: need('QuarantineBucketName'),
  };
}

/** Polls `probe` until it returns a value, or throws CheckFailed with `lastState()` after the deadline. */
async function until<T>(probe: () => Promise<T | undefined>, deadline: number, lastState: () => string): Promise<T> {
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new CheckFailed(`not within the timeout: ${lastState()}`);
    await sleep(1_000);
  }
}

export async function verifyStage(o: VerifyOptions): Promise<VerifyReport> {
  const say = o.progress ?? (() => undefined);
  const { values, notModelled } = o.resolved;
  const box = new BlackBox(blackBoxNames(values));
  const results: CheckResult[] = [];
  const runId = newCanaryRunId();
  const startedAt = Date.now();

  const run = async (check: string, body: () => Promise<string | { na: string }>): Promise<CheckResult> => {
    const t0 = Date.now();
    say(`… ${check}`);
    let result: CheckResult;
    try {
      const out = await body();
      result = typeof out === 'string' ? { check, status: 'PASS', detail: out, seconds: (Date.now() - t0) / 1000 } : { check, status: 'N/A', detail: out.na, seconds: (Date.now() - t0) / 1000 };
    } catch (e) {
      result = { check, status: 'FAIL', detail: e instanceof CheckFailed ? e.message : `${(e as Error).name}: ${(e as Error).message}`, seconds: (Date.now() - t0) / 1000 };
    }
    say(`${result.status.padEnd(4)} ${check}: ${result.detail} (${result.seconds.toFixed(1)} s)`);
    results.push(result);
    return result;
  };
  const unavailable = (name: StageValueName): { na: string } | undefined => {
    if (values[name]) return undefined;
    const why = notModelled.get(name);
    if (why) return { na: `not available here: ${why}` };
    return undefined;
  };

  try {
    // 1. canaries in ---------------------------------------------------------------------------------------
    const batch: CanaryBatch = canaryBatch(runId, Date.now(), o.users ?? DEFAULT_CANARY_USERS);
    const users = [...batch.expectedCounts.keys()];
    let positions: { shardId: string; sequenceNumber: string }[] = [];
    let sentAt = Date.now();
    const sent = await run('canary events sent', async () => {
      const records = [...batch.valid, ...batch.invalid.map((i) => i.record)].map((r) => ({ data: Buffer.from(JSON.stringify(r)), partitionKey: String((r as { user_id: string }).user_id) }));
      sentAt = Date.now();
      positions = await box.put(records);
      return `${batch.valid.length} valid events of ${users.length} canary users and ${batch.invalid.length} invalid record to ${box.names.rawStream} (run ${runId})`;
    });
    if (sent.status !== 'PASS') return { runId, results, ok: false };
    const deadline = Date.now() + o.timeoutMs;
    // S3 LastModified is the server's clock: allow for skew when listing what arrived since the send.
    const since = sentAt - 5 * 60_000;

    // 2-4. the three paths, waited for together -----------------------------------------------------------
    await Promise.all([
      run('canary profiles readable with their counts', async () => {
        let seen = new Map<string, Record<string, unknown>>();
        await until(
          async () => {
            seen = await box.profiles(users);
            return users.every((u) => sameCounts(seen.get(u), batch.expectedCounts.get(u)!)) ? true : undefined;
          },
          deadline,
          () => users.map((u) => `${u}: ${JSON.stringify((seen.get(u) as { counts?: unknown } | undefined)?.counts ?? 'no profile')}`).join('; '),
        );
        return `${users.length} profiles in ${box.names.profileTable}, each counting ${JSON.stringify(batch.expectedCounts.get(users[0]!))}`;
      }),
      run('canary events landed in the curated zone', async () => {
        const wanted = new Set(batch.valid.map((e) => e.event_id));
        const prefixes = [...new Set(batch.valid.map((e) => `${ZONE_PREFIX.curated}${partitionPath(eventTimePartition(e.event_time))}`))];
        const found = new Map<string, string>();
        const read = new Set<string>();
        await until(
          async () => {
            for (const prefix of prefixes) {
              const fresh = (await box.keys(box.names.curatedBucket, prefix, since)).filter((k) => !read.has(k));
              for (const row of await box.curatedRows(fresh)) if (wanted.has(row.event_id)) found.set(row.event_id, row.key);
              fresh.forEach((k) => read.add(k));
            }
            return found.size === wanted.size ? true : undefined;
          },
          deadline,
          () => `${found.size} of ${wanted.size} canary events found under ${prefixes.join(', ')} (${read.size} objects read)`,
        );
        return `${found.size} events in ${new Set(found.values()).size} object(s) under ${prefixes.join(', ')}`;
      }),
      run('invalid canary quarantined with its reason', async () => {
        const expected = batch.invalid[0]!;
        const at = positions[batch.valid.length]!;
        const hours = [...new Set([sentAt - 60_000, sentAt, sentAt + 60 * 60_000].map((t) => `${ZONE_PREFIX.quarantine}${partitionPath(hourPartition(t))}`))];
        let line: Record<string, unknown> | undefined;
        const read = new Set<string>();
        await until(
          async () => {
            for (const prefix of hours) {
              const fresh = (await box.keys(box.names.quarantineBucket, prefix, since)).filter((k) => !read.has(k));
              for (const l of await box.quarantineLines(fresh)) if (l.line.shard_id === at.shardId && l.line.sequence_number === at.sequenceNumber) line = l.line;
              fresh.forEach((k) => read.add(k));
            }
            return line;
          },
          deadline,
          () => `no quarantine line for ${at.shardId}/${at.sequenceNumber} under ${hours.join(', ')} (${read.size} objects read)`,
        );
        const errors = (line!.errors ?? []) as { path: string; rule: string }[];
        if (line!.reason !== expected.reason || !errors.some((e) => e.path === expected.path && e.rule === expected.rule)) {
          throw new CheckFailed(`quarantined with ${String(line!.reason)} ${JSON.stringify(errors)}, expected ${expected.reason} at ${expected.path} (${expected.rule})`);
        }
        return `${expected.reason} at ${expected.path} (${expected.rule}), shard ${at.shardId}`;
      }),
    ]);

    // 5. alarms ---------------------------------------------------------------------------------------------
    await run('alarms in OK state', async () => {
      const na = unavailable('AlarmTopicArn');
      if (na) return na;
      const topic = values.AlarmTopicArn;
      if (!topic) throw new CheckFailed('the stage has no AlarmTopicArn');
      const cloudwatch = o.cloudwatch ?? new CloudWatchClient({});
      const alarms: { name: string; state: string }[] = [];
      let token: string | undefined;
      do {
        const page: DescribeAlarmsCommandOutput = await cloudwatch.send(new DescribeAlarmsCommand({ ActionPrefix: topic, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken: token }));
        for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) alarms.push({ name: a.AlarmName ?? '?', state: a.StateValue ?? '?' });
        token = page.NextToken;
      } while (token);
      if (alarms.length === 0) throw new CheckFailed(`no alarm notifies ${topic}`);
      const firing = alarms.filter((a) => a.state === 'ALARM');
      if (firing.length > 0) throw new CheckFailed(`${firing.length} of ${alarms.length} alarms in ALARM: ${firing.map((a) => a.name).join(', ')}`);
      const waiting = alarms.filter((a) => a.state === 'INSUFFICIENT_DATA').length;
      return `${alarms.length} alarms notify the alarm topic, none in ALARM${waiting ? ` (${waiting} not evaluated yet: INSUFFICIENT_DATA)` : ''}`;
    });

    // 6. the export schedule --------------------------------------------------------------------------------
    await run('profile export schedule enabled', async () => {
      const na = unavailable('ProfileExportScheduleName');
      if (na) return na;
      const name = values.ProfileExportScheduleName;
      const group = values.ProfileExportScheduleGroupName;
      if (!name) return { na: 'the stage has no daily profile export (lake.profileExport: off)' };
      const scheduler = o.scheduler ?? new SchedulerClient({});
      const s = await scheduler.send(new GetScheduleCommand({ Name: name, ...(group ? { GroupName: group } : {}) }));
      if (s.State !== 'ENABLED') throw new CheckFailed(`schedule ${group ?? 'default'}/${name} is ${s.State}`);
      return `${group ?? 'default'}/${name}: ENABLED, ${s.ScheduleExpression} ${s.ScheduleExpressionTimezone ?? ''}`.trim();
    });

    // 7. the freshness canary --------------------------------------------------------------------------------
    await run('freshness canary measuring', async () => {
      const na = unavailable('FreshnessCanaryFunctionName');
      if (na) return na;
      if (!values.FreshnessCanaryFunctionName) return { na: "the stage has no freshness canary (alarms.freshnessCanary: 'off')" };
      return freshnessCanaryMeasuring(o.cloudwatch ?? new CloudWatchClient({}), values.FreshnessCanaryFunctionName);
    });

    // 8. clean up -------------------------------------------------------------------------------------------
    if (!o.keepCanaries) {
      await run('canary profiles removed', async () => {
        await box.deleteProfiles(users);
        const left = await box.profiles(users);
        if (left.size > 0) throw new CheckFailed(`${left.size} canary profiles still there`);
        return `${users.length} canary profiles deleted (the lake keeps the canary events; KPI and reconciliation queries exclude them)`;
      });
    }
  } finally {
    box.destroy();
  }
  say(`done in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  return { runId, results, ok: results.every((r) => r.status !== 'FAIL') };
}

/**
 * The freshness canary check: its ProfileFreshness samples of the last FRESHNESS_LOOKBACK_MS, with their p95
 * and maximum; fails (with what to do) when there is none. The objective itself is the freshness alarms' to
 * judge, which the alarms check reads.
 */
export async function freshnessCanaryMeasuring(cloudwatch: Pick<CloudWatchClient, 'send'>, functionName: string, now = new Date()): Promise<string> {
  const start = new Date(now.getTime() - FRESHNESS_LOOKBACK_MS);
  const minutes = FRESHNESS_LOOKBACK_MS / 60_000;
  const query = {
    Namespace: 'PersonalizationPlatform',
    MetricName: FRESHNESS_METRICS.profileSeconds,
    Dimensions: [{ Name: 'service', Value: 'freshness-canary' }],
    StartTime: start,
    EndTime: now,
    Period: FRESHNESS_LOOKBACK_MS / 1000,
  };
  // GetMetricStatistics takes Statistics or ExtendedStatistics, not both in one call.
  const counts = await cloudwatch.send(new GetMetricStatisticsCommand({ ...query, Statistics: ['SampleCount', 'Maximum'] }));
  const samples = (counts.Datapoints ?? []).reduce((n, d) => n + (d.SampleCount ?? 0), 0);
  if (samples === 0) {
    throw new CheckFailed(`no ${FRESHNESS_METRICS.profileSeconds} sample in the last ${minutes} minutes: the canary (${functionName}) is not running or not publishing; right after a first deploy, run verify again in a few minutes`);
  }
  const p95 = await cloudwatch.send(new GetMetricStatisticsCommand({ ...query, ExtendedStatistics: ['p95'] }));
  const value = p95.Datapoints?.[0]?.ExtendedStatistics?.p95;
  const max = Math.max(...(counts.Datapoints ?? []).map((d) => d.Maximum ?? 0));
  return `${samples} probes in the last ${minutes} minutes, event time to profile readable p95 ${value === undefined ? 'n/a' : `${value.toFixed(1)} s`}, max ${max.toFixed(1)} s (the freshness alarms judge it against the objective)`;
}

/** Whether a profile item counts exactly the expected events per type. */
function sameCounts(item: Record<string, unknown> | undefined, expected: Readonly<Record<string, number>>): boolean {
  const counts = (item?.counts ?? {}) as Record<string, unknown>;
  const keys = new Set([...Object.keys(counts), ...Object.keys(expected)]);
  return item !== undefined && [...keys].every((k) => Number(counts[k] ?? 0) === (expected[k] ?? 0));
}

/** The pass/fail table. */
export function renderTable(results: readonly CheckResult[]): string {
  const w = Math.max(5, ...results.map((r) => r.check.length));
  const lines = [`${'check'.padEnd(w)}  result  seconds  detail`, `${'-'.repeat(w)}  ------  -------  ------`];
  for (const r of results) lines.push(`${r.check.padEnd(w)}  ${r.status.padEnd(6)}  ${r.seconds.toFixed(1).padStart(7)}  ${r.detail}`);
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  lines.push('', `${count('PASS')} passed, ${count('FAIL')} failed, ${count('N/A')} not available`);
  return lines.join('\n');
}
