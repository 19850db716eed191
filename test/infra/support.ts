/** What the infrastructure tests share: the synthesized stage with its cdk-nag report, and the report's checks. */
import { Validations, type App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createPlatformApp } from '../../lib/app';
import type { PlatformStack } from '../../lib/platform-stack';

export interface Report {
  pluginReports: {
    pluginName: string;
    violations: { ruleName: string; severity?: string; violatingResources?: { resourceLogicalId: string }[]; violatingConstructs?: { constructPath: string }[] }[];
    suppressedViolations?: { ruleName: string; acknowledgedId: string; acknowledgedAt: string; reason: string }[];
  }[];
}

export function readReport(outdir: string): Report {
  const path = join(outdir, 'validation-report.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : { pluginReports: [] };
}

/** Every finding left in the report, errors and warnings alike. */
export function violations(report: Report): string[] {
  return report.pluginReports.flatMap((r) =>
    r.violations.flatMap((v) => [...(v.violatingResources ?? []).map((res) => res.resourceLogicalId), ...(v.violatingConstructs ?? []).map((c) => c.constructPath)].map((at) => `${v.ruleName} (${v.severity}) on ${at}`)),
  );
}

/** Every acknowledgement recorded in the construct tree: `<id> at <construct path>`, with its reason. */
export function acknowledgements(app: App): { key: string; id: string; reason: string }[] {
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
export function expectHonestAcknowledgements(app: App, report: Report): void {
  const acks = acknowledgements(app);
  expect(acks.length).toBeGreaterThan(0);
  for (const a of acks) {
    expect(a.id, a.key).toMatch(/^AwsSolutions::AwsSolutions-[A-Z0-9]+(\[.+\])?$/);
    expect(a.reason.length, a.key).toBeGreaterThan(40);
  }
  const used = new Set(report.pluginReports.flatMap((r) => (r.suppressedViolations ?? []).map((s) => `${s.acknowledgedId} at ${s.acknowledgedAt}`)));
  expect(acks.map((a) => a.key).filter((k) => !used.has(k)), 'acknowledgements that match no finding').toEqual([]);
}

export interface SynthesizedStage {
  readonly app: App;
  readonly stack: PlatformStack;
  readonly template: Template;
  /** The cdk-nag report of this synthesis (the app registers the checks: lib/app.ts). */
  readonly report: Report;
}

/**
 * Synthesizes a stage once (cdk-nag runs as part of it); CloudFormation validation off unless asked for. The
 * functions are not bundled (the template is the same but for asset hashes; the other infrastructure tests
 * and the bundle-size tests bundle them), which makes a synthesis several times faster.
 */
export function synthesizeStage(stage: string, stages?: unknown, options: { cloudFormationValidation?: boolean } = {}): SynthesizedStage {
  const { app, stack } = createPlatformApp({
    context: { stage, ...(stages ? { stages } : {}), 'aws:cdk:bundling-stacks': [] },
    ...(options.cloudFormationValidation ? {} : { builtinCloudFormationValidation: false }),
  } as never);
  const assembly = app.synth();
  return { app, stack, template: Template.fromStack(stack), report: readReport(assembly.directory) };
}
