import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlatformApp } from '../../lib/app';
import { StageConfigError } from '../../lib/config/stage-config';
import { STAGE_VALUE_NAMES, requiredValueNames } from '../../lib/discovery/catalog';

interface Report {
  pluginReports: {
    pluginName: string;
    violations: { ruleName: string; severity?: string; violatingResources?: { resourceLogicalId: string }[]; violatingConstructs?: { constructPath: string }[] }[];
    suppressedViolations?: { ruleName: string; acknowledgedId: string; acknowledgedAt: string; reason: string }[];
  }[];
}

function readReport(outdir: string): Report {
  const path = join(outdir, 'validation-report.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : { pluginReports: [] };
}

/** Every finding left in the report, errors and warnings alike. */
function violations(report: Report): string[] {
  return report.pluginReports.flatMap((r) =>
    r.violations.flatMap((v) => [...(v.violatingResources ?? []).map((res) => res.resourceLogicalId), ...(v.violatingConstructs ?? []).map((c) => c.constructPath)].map((at) => `${v.ruleName} (${v.severity}) on ${at}`)),
  );
}

/** Every acknowledgement recorded in the construct tree: `<id> at <construct path>`, with its reason. */
function acknowledgements(app: App): { key: string; id: string; reason: string }[] {
  return app.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ key: `${id} at ${c.node.path}`, id, reason }))),
  );
}

/**
 * cdk-nag's acknowledgements must be honest: each names a finding by its full `AwsSolutions::` id (so the
 * framework records it in the validation report with its reason, instead of cdk-nag dropping it unseen), and
 * each matches a finding that is really there. A stale acknowledgement would silence a future finding of the
 * same id without anyone having judged it.
 */
function expectHonestAcknowledgements(app: App, report: Report): void {
  const acks = acknowledgements(app);
  expect(acks.length).toBeGreaterThan(0);
  for (const a of acks) {
    expect(a.id, a.key).toMatch(/^AwsSolutions::AwsSolutions-[A-Z0-9]+(\[.+\])?$/);
    expect(a.reason.length, a.key).toBeGreaterThan(40);
  }
  const used = new Set(report.pluginReports.flatMap((r) => (r.suppressedViolations ?? []).map((s) => `${s.acknowledgedId} at ${s.acknowledgedAt}`)));
  expect(acks.map((a) => a.key).filter((k) => !used.has(k)), 'acknowledgements that match no finding').toEqual([]);
}

describe('the CDK app', () => {
  describe('dev stage (with CloudFormation validation of the template)', () => {
    let template: Template;
    let outdir: string;
    let devApp: App;

    beforeAll(() => {
      const { app, stack } = createPlatformApp({ context: { stage: 'dev' } });
      devApp = app;
      const assembly = app.synth();
      outdir = assembly.directory;
      template = Template.fromStack(stack);
    });

    it('synthesizes with zero unacknowledged cdk-nag AwsSolutions findings', () => {
      expect(violations(readReport(outdir))).toEqual([]);
    });

    it('acknowledges only real findings, each by its full id and with a reason', () => {
      expectHonestAcknowledgements(devApp, readReport(outdir));
    });

    it('has one encrypted, TLS-only alarm topic (its key and policies: test/infra/aws-rules.test.ts)', () => {
      template.resourceCountIs('AWS::SNS::Topic', 1);
      const [topic] = Object.values(template.findResources('AWS::SNS::Topic'));
      expect(JSON.stringify(topic?.Properties.KmsMasterKeyId)).toContain('AlarmsKey');
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('outputs every value under its documented name (no hashed id), each with a stack export', () => {
      const outputs = template.findOutputs('*') as Record<string, { Value: unknown; Export?: { Name: string } }>;
      expect(Object.keys(outputs).sort()).toEqual(requiredValueNames().sort());
      for (const [name, o] of Object.entries(outputs)) expect(o.Export?.Name, name).toBe(`PersonalizationPlatform-dev:${name}`);
    });

    it('publishes the same values as SSM parameters under /pdp/dev/', () => {
      const outputs = template.findOutputs('*') as Record<string, { Value: unknown }>;
      const parameters = Object.values(template.findResources('AWS::SSM::Parameter')).map((r) => r.Properties as { Name: string; Value: unknown; Type: string });
      expect(parameters.map((p) => p.Name).sort()).toEqual(requiredValueNames().map((n) => `/pdp/dev/${n}`).sort());
      for (const p of parameters) {
        expect(p.Type).toBe('String');
        expect(p.Value, p.Name).toEqual(outputs[p.Name.slice('/pdp/dev/'.length)]!.Value);
      }
    });

    it('tags every resource with the project and stage', () => {
      template.hasResourceProperties('AWS::SNS::Topic', { Tags: Match.arrayWith([{ Key: 'project', Value: 'personalization-data-platform' }, { Key: 'stage', Value: 'dev' }]) });
    });
  });

  it.each([
    ['prod', undefined],
    ['a stage with a customer-managed stream key', { secure: { extends: 'prod', streams: { encryption: 'customer' } } }],
  ])('synthesizes %s with zero unacknowledged findings and only honest acknowledgements', (_, stages) => {
    const { app } = createPlatformApp({ context: { stage: stages ? 'secure' : 'prod', ...(stages ? { stages } : {}) }, builtinCloudFormationValidation: false } as never);
    const assembly = app.synth();
    const report = readReport(assembly.directory);
    expect(violations(report)).toEqual([]);
    expectHonestAcknowledgements(app, report);
    // The optional values appear where the stage has them: the daily export (both), the stream key (the customer-key stage).
    const outputs = Object.keys(Template.fromStack(app.node.findChild(`PersonalizationPlatform-${stages ? 'secure' : 'prod'}`) as Stack).findOutputs('*'));
    const expected = [...requiredValueNames(), 'ProfileExportScheduleName', 'ProfileExportScheduleGroupName', ...(stages ? ['StreamKeyArn'] : [])];
    expect(outputs.sort()).toEqual(STAGE_VALUE_NAMES.filter((n) => expected.includes(n)).sort());
  });

  it('fails synthesis on an unacknowledged finding (the checks are really wired in)', () => {
    const app = new App();
    const stack = new Stack(app, 'Insecure');
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow();
  });

  it('reports a bad stage configuration with the key path and value', () => {
    expect(() => createPlatformApp({ context: { stage: 'qa', stages: { qa: { streams: { retentionHours: 1 } } } } })).toThrow(StageConfigError);
    expect(() => createPlatformApp({ context: { stage: 'qa', stages: { qa: { streams: { retentionHours: 1 } } } } })).toThrow(
      /stages\.qa\.streams\.retentionHours must be an integer from 24 to 8760, got 1/,
    );
  });
});
