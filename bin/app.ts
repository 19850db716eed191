#!/usr/bin/env node
/** The CDK app: `npx cdk synth` / `npx cdk deploy -c stage=<name>`. */
import { StageConfigError } from '../lib/config/stage-config';
import { createPlatformApp } from '../lib/app';

try {
  createPlatformApp().app.synth();
} catch (e) {
  if (e instanceof StageConfigError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
