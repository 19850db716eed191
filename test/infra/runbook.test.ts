/**
 * Every alarm that can page someone says what to do: its AlarmDescription ends with a pointer to its section
 * of the runbook (docs/operations.md), and that section exists, for every alarm of every shape of stage (prod
 * with the daily export, dev without it, a stage without the canary).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RUNBOOK_PAGE, RUNBOOK_SECTIONS, headingAnchor } from '../../lib/monitoring/runbook';
import { anchorsOf } from '../support/markdown';
import { synthesizeStage, type SynthesizedStage } from './support';

const page = readFileSync(join(__dirname, '..', '..', RUNBOOK_PAGE), 'utf8');
const anchors = anchorsOf(page);

function alarmDescriptions(s: SynthesizedStage): [string, string][] {
  const resources = s.template.toJSON().Resources as Record<string, { Type: string; Properties: { AlarmDescription?: string } }>;
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
    .map(([id, r]) => [id, r.Properties.AlarmDescription ?? '']);
}

describe('the runbook', () => {
  let stages: Record<string, SynthesizedStage>;
  beforeAll(() => {
    stages = {
      prod: synthesizeStage('prod'),
      dev: synthesizeStage('dev'),
      quiet: synthesizeStage('quiet', { quiet: { extends: 'dev', alarms: { freshnessCanary: 'off' } } }),
    };
  });

  it('has a section for every alarm the stack can create, under the heading its pointer names', () => {
    for (const heading of new Set(Object.values(RUNBOOK_SECTIONS))) expect(anchors.has(headingAnchor(heading)), heading).toBe(true);
  });

  it.each(['prod', 'dev', 'quiet'])('%s: every alarm description points at an existing runbook section', (stage) => {
    const alarms = alarmDescriptions(stages[stage]!);
    expect(alarms.length).toBeGreaterThan(10);
    for (const [id, description] of alarms) {
      const m = new RegExp(`Runbook: ${RUNBOOK_PAGE.replace('.', '\\.')}#([a-z0-9-]+) \\("([^"]+)"\\)\\.$`).exec(description);
      expect(m, `${id}: ${description}`).not.toBeNull();
      expect(anchors.has(m![1]!), `${id} points at #${m![1]}`).toBe(true);
      expect(description.length, id).toBeLessThanOrEqual(1024);
    }
  });

  it('the freshness canary and its alarms exist only when the stage turns it on', () => {
    const names = (s: SynthesizedStage) => alarmDescriptions(s).map(([id]) => id).filter((id) => id.startsWith('FreshnessCanary'));
    expect(names(stages.dev!)).toHaveLength(3);
    expect(names(stages.quiet!)).toEqual([]);
  });
});
