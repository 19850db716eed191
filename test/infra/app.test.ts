import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlatformApp } from '../../lib/app';
import { StageConfigError } from '../../lib/config/stage-config';
import { requiredValueNames } from '../../core/discovery/catalog';
import { retainedResources, type SynthesizedTemplate } from '../../lib/discovery/retained';
import { expectHonestAcknowledgements, synthesizeStage, violations, type SynthesizedStage } from './support';

const ROOT = join(__dirname, '..', '..');

describe('the CDK app', () => {
  describe('dev stage (with CloudFormation validation of the template)', () => {
    let dev: SynthesizedStage;
    let template: Template;

    beforeAll(() => {
      dev = synthesizeStage('dev', undefined, { cloudFormationValidation: true });
      template = dev.template;
    });

    it('synthesizes with zero unacknowledged cdk-nag AwsSolutions findings (prod and a customer-key stage: aws-rules.test.ts)', () => {
      expect(violations(dev.report)).toEqual([]);
    });

    it('acknowledges only real findings, each by its full id and with a reason', () => {
      expectHonestAcknowledgements(dev.app, dev.report);
    });

    it('keeps nothing on destroy but its functions\' log groups (generated names): a destroyed dev stage redeploys as it is', () => {
      expect(retainedResources(template.toJSON() as SynthesizedTemplate).filter(([, r]) => r.Type !== 'AWS::Logs::LogGroup')).toEqual([]);
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

  it('bin/app.ts, as cdk.json runs it, prints a bad stage as a friendly message: no stack trace, exit code 1', () => {
    const run = (context: object) => {
      const outdir = mkdtempSync(join(tmpdir(), 'pdp-app-'));
      try {
        return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'app.ts')], {
          cwd: ROOT,
          encoding: 'utf8',
          // How the CDK CLI hands -c values to the app.
          env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
          timeout: 120_000,
        });
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    };
    const unknown = run({ stage: 'staging' });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("stage configuration: unknown stage 'staging' (defined: dev, prod, localstack)");
    expect(unknown.stderr).toContain('cdk.json');
    const bad = run({ stage: 'wide', stages: { wide: { validation: { maxPastAgeSeconds: 30 * 86_400 } } } });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/stages\.wide\.validation\.maxPastAgeSeconds must be small enough .* could keep 723 hour partitions active/);
    for (const out of [unknown, bad]) {
      expect(out.stderr).not.toMatch(/^\s+at /m);
      expect(out.stderr).not.toMatch(/StageConfigError|\.ts:\d+/);
    }
  }, 240_000);
});
