import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlatformApp } from '../../lib/app';
import { StageConfigError } from '../../lib/config/stage-config';

interface Report {
  pluginReports: { summary: { status: string; pluginName: string }; violations: { ruleName: string; violatingResources: { resourceLogicalId: string }[] }[] }[];
}

function readReport(outdir: string): Report {
  const path = join(outdir, 'validation-report.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : { pluginReports: [] };
}

function violations(report: Report): string[] {
  return report.pluginReports.flatMap((r) => r.violations.flatMap((v) => v.violatingResources.map((res) => `${v.ruleName} on ${res.resourceLogicalId}`)));
}

describe('the CDK app', () => {
  describe('dev stage (with CloudFormation validation of the template)', () => {
    let template: Template;
    let outdir: string;

    beforeAll(() => {
      const { app, stack } = createPlatformApp({ context: { stage: 'dev' } });
      const assembly = app.synth();
      outdir = assembly.directory;
      template = Template.fromStack(stack);
    });

    it('synthesizes with zero unacknowledged cdk-nag AwsSolutions findings', () => {
      expect(violations(readReport(outdir))).toEqual([]);
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

    it('outputs what producers, services, analysts and the end-to-end suite need', () => {
      const outputs = Object.keys(template.findOutputs('*'));
      for (const name of ['AlarmTopicArn', 'RawBucketName', 'CuratedBucketName', 'QuarantineBucketName', 'LakeDatabaseName', 'RawStreamName', 'ProfileTableName']) {
        expect(outputs.some((o) => o.includes(name)), `${name} in ${outputs.join(', ')}`).toBe(true);
      }
    });

    it('tags every resource with the project and stage', () => {
      template.hasResourceProperties('AWS::SNS::Topic', { Tags: Match.arrayWith([{ Key: 'project', Value: 'personalization-data-platform' }, { Key: 'stage', Value: 'dev' }]) });
    });
  });

  it('synthesizes the prod stage with zero unacknowledged findings', () => {
    const { app } = createPlatformApp({ context: { stage: 'prod' }, builtinCloudFormationValidation: false } as never);
    const assembly = app.synth();
    expect(violations(readReport(assembly.directory))).toEqual([]);
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
