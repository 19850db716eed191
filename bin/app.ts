#!/usr/bin/env node
/** The CDK app: `npx cdk synth` / `npx cdk deploy -c stage=<name>`. */
import { ConfigError } from '../core/errors';
import { createPlatformApp } from '../lib/app';

try {
  createPlatformApp().app.synth();
} catch (e) {
  // A configuration mistake is the user's to fix: its message names the key, the value and what it must be.
  // A stack trace would only bury it.
  if (e instanceof ConfigError) {
    console.error(`\n${e.message}\n\nFix the stage (-c stage=<name>) or its definition under "stages" in cdk.json, then run the command again.\n`);
    process.exit(1);
  }
  throw e;
}
