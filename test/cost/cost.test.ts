/**
 * `npm run cost`: the estimate follows the stage's configuration and the unit prices, its write model matches
 * what the benchmark measured, the cost page's table is what the command prints, and the command's options
 * behave as its help says.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../scripts/cost';
import { clickstreamCheapestStreaming, clickstreamCostAt } from '../../core/cost/clickstream';
import { DEFAULT_WORKLOAD, estimateCost, expectedDistinctUsers, monitoredAlarms, MONTH_SECONDS, shardsFor } from '../../core/cost/estimate';
import { PRICES } from '../../core/cost/prices';
import { renderCostMarkdown } from '../../core/cost/render';
import { BUILT_IN_STAGES, resolveStage } from '../../lib/config/stage-config';
import { synthesizeStage } from '../infra/support';

const ROOT = join(__dirname, '..', '..');
const prod = BUILT_IN_STAGES.prod!;
const dev = BUILT_IN_STAGES.dev!;
const line = (e: ReturnType<typeof estimateCost>, service: string, item: RegExp) => e.lines.find((l) => l.service === service && item.test(l.item))!;

describe('the write model', () => {
  it('reproduces the benchmark: distinct Zipf users per window give its writes per 1,000 events within 3%', () => {
    // npm run bench (docs/architecture.md, "Freshness against cost"): 20k users, 1,000 events/s.
    for (const [window, measured] of [[1, 429], [10, 245], [60, 134], [120, 97]] as const) {
      const perThousand = (expectedDistinctUsers(20_000, 1000 * window, 1.1) / (1000 * window)) * 1000;
      expect(Math.abs(perThousand - measured) / measured, `${window} s`).toBeLessThan(0.03);
    }
  });

  it('is bounded by the users and by the events, and uniform activity touches the most users', () => {
    expect(expectedDistinctUsers(100, 1_000_000, 1.1)).toBeCloseTo(100, 3);
    expect(expectedDistinctUsers(1_000_000, 10, 1.1)).toBeLessThanOrEqual(10);
    expect(expectedDistinctUsers(20_000, 120_000, 0)).toBeGreaterThan(expectedDistinctUsers(20_000, 120_000, 1.1));
    expect(expectedDistinctUsers(20_000, 0, 1.1)).toBe(0);
  });

  it('prices 191 write units per 1,000 events at the default window, as measured with the ledger', () => {
    const e = estimateCost(prod, DEFAULT_WORKLOAD);
    expect(line(e, 'DynamoDB', /writes/).item).toContain('191 units per 1,000 events');
  });
});

describe('the estimate follows the configuration', () => {
  it('provisioned streams cost shard-hours and PUT units; on demand, stream-hours, data in and out; retention beyond 24 h is extra', () => {
    const d = estimateCost(dev, DEFAULT_WORKLOAD);
    expect(line(d, 'Kinesis Data Streams', /raw stream: 1 shard/).monthly).toBeCloseTo(720 * PRICES.kinesis.shardHour, 6);
    expect(line(d, 'Kinesis Data Streams', /raw stream: PUT payload units/).monthly).toBeCloseTo((1000 * MONTH_SECONDS / 1e6) * PRICES.kinesis.putPayloadUnitsPerMillion, 6);
    expect(d.lines.some((l) => /retention/.test(l.item))).toBe(false);
    const p = estimateCost(prod, DEFAULT_WORKLOAD);
    expect(p.lines.filter((l) => /retention 168 h/.test(l.item))).toHaveLength(2);
    expect(line(p, 'Kinesis Data Streams', /raw stream: data in/).monthly).toBeGreaterThan(line(d, 'Kinesis Data Streams', /raw stream: PUT/).monthly);
  });

  it('a provisioned stream too small for the rate is priced at the shards the rate needs, with a note', () => {
    expect(shardsFor(2500, 440)).toBe(3);
    expect(shardsFor(100, 20_000)).toBe(2);
    const e = estimateCost(dev, { ...DEFAULT_WORKLOAD, eventsPerSecond: 2500 });
    expect(line(e, 'Kinesis Data Streams', /raw stream: 3 shard/)).toBeDefined();
    expect(e.notes.join('\n')).toMatch(/raw stream's 1 shard\(s\) take at most 1000 records\/s/);
  });

  it('a shorter window costs more writes; the canary, the export and a customer key appear only when configured', () => {
    const at = (window: number) => line(estimateCost(prod, { ...DEFAULT_WORKLOAD, windowSeconds: window }), 'DynamoDB', /writes/).monthly;
    expect(at(0)).toBeGreaterThan(at(10));
    expect(at(10)).toBeGreaterThan(at(120));
    const quiet = resolveStage('quiet', { quiet: { extends: 'dev', alarms: { freshnessCanary: 'off' }, streams: { encryption: 'customer' } } });
    const q = estimateCost(quiet, DEFAULT_WORKLOAD);
    expect(q.lines.some((l) => /freshness-canary/.test(l.item))).toBe(false);
    expect(q.lines.some((l) => /daily profile export/.test(l.item))).toBe(false);
    expect(line(q, 'KMS', /key/).monthly).toBe(2 * PRICES.kms.keyMonth);
    expect(estimateCost(prod, DEFAULT_WORKLOAD).lines.some((l) => /daily profile export/.test(l.item))).toBe(true);
  });

  it('every line comes from the one price file: doubling a price doubles its lines', () => {
    const base = estimateCost(prod, DEFAULT_WORKLOAD);
    const doubled = estimateCost(prod, DEFAULT_WORKLOAD, { ...PRICES, firehose: { ...PRICES.firehose, ingestGb: 2 * PRICES.firehose.ingestGb } });
    expect(line(doubled, 'Data Firehose', /raw delivery/).monthly).toBeCloseTo(2 * line(base, 'Data Firehose', /raw delivery/).monthly, 6);
    expect(doubled.total - base.total).toBeCloseTo(2 * line(base, 'Data Firehose', /raw delivery/).monthly, 6);
    expect(base.total).toBeCloseTo(base.services.reduce((s, x) => s + x.monthly, 0), 6);
  });

  it("counts the stage's alarms as the synthesized template has them", () => {
    for (const [name, stage] of [['dev', dev], ['prod', prod]] as const) {
      const alarms = Object.values(synthesizeStage(name).template.toJSON().Resources as Record<string, { Type: string }>).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
      expect(monitoredAlarms(stage), name).toBe(alarms.length);
    }
  });
});

describe('the cost page and the command', () => {
  it('docs/cost.md shows the table the command prints for prod at 1,000 events/s', () => {
    const page = readFileSync(join(ROOT, 'docs', 'cost.md'), 'utf8');
    const m = /<!-- cost-table:prod:1000 -->\n([\s\S]*?)\n<!-- \/cost-table:prod:1000 -->/.exec(page);
    expect(m, 'the cost table markers').not.toBeNull();
    expect(m![1], 'regenerate with: npm run cost -- --stage prod --markdown').toBe(renderCostMarkdown(estimateCost(prod, DEFAULT_WORKLOAD)));
  });

  it('shows Clickstream Analytics on AWS at the rates it publishes, and its cheapest streaming setup adds up', () => {
    expect(clickstreamCostAt(250)).toBeUndefined();
    expect(clickstreamCheapestStreaming(1000)).toBeCloseTo(678 + 736 + 66.8 + 14, 6);
    const page = readFileSync(join(ROOT, 'docs', 'cost.md'), 'utf8');
    for (const r of clickstreamCostAt(1000)!) expect(page).toContain(`$${r.monthly.toLocaleString('en-US')}`);
  });

  it('npm run cost -- --help runs the command as a user does', () => {
    const help = spawnSync('npm', ['run', '-s', 'cost', '--', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('--events-per-second');
    expect(help.stdout).toContain('core/cost/prices.ts');
  }, 60_000);

  it('prints a priced stage beside the comparison, as JSON on request, and refuses bad options clearly', () => {
    const run = (...args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
      const error = vi.spyOn(console, 'error').mockImplementation((s: unknown) => void err.push(String(s)));
      try {
        return { status: main(args), stdout: out.join('\n'), stderr: err.join('\n') };
      } finally {
        log.mockRestore();
        error.mockRestore();
      }
    };
    const out = run('--stage', 'prod', '--events-per-second', '1000');
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^Total\s+\$2,\d{3}$/m);
    expect(out.stdout).toContain('Clickstream Analytics on AWS at 1000 requests/s');
    expect(JSON.parse(run('--stage', 'prod', '--json').stdout).total).toBeCloseTo(estimateCost(prod, DEFAULT_WORKLOAD).total, 6);
    expect(run('--stage', 'prod', '--markdown').stdout).toBe(renderCostMarkdown(estimateCost(prod, DEFAULT_WORKLOAD)));
    expect(run('--events-per-second', '250').stdout).toContain('publishes its costs at 10, 100, 1000 requests/s only');
    const bad = run('--events-per-second', 'lots', '--users', '1.5');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--events-per-second must be a number/);
    expect(bad.stderr).toMatch(/--users must be a whole number/);
    expect(run('--no-such-option').status).toBe(2);
    const unknown = run('--stage', 'nope');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown stage 'nope'/);
  });
});
