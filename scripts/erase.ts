/**
 * `npm run erase -- --user <id> [--anonymous-id <id>]... [--reference <text>] [--stage dev] [--data-dir .local/runtime]`
 *   Erases a person on the running local runtime (`npm start -- --keep-running`, with the `export ...` lines it
 *   prints in the environment): tombstones, ledger items and links, every zone of the lake (DuckDB finds the
 *   objects in the lake mirror; each is rewritten there and in the S3 emulator), and an audit entry in
 *   <data-dir>/erasure-audit.jsonl.
 *
 * `npm run erase -- --user <id> --queue-url <url> [--reference <text>]`
 *   Asks a deployed stage to erase a person: sends the request to its erasure queue (output ErasureQueueUrl),
 *   which the erasure function works through. Needs sqs:SendMessage on the queue (and the queue's KMS key).
 *
 * See docs/privacy.md.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveStage } from '../lib/config/stage-config';
import { sendErasureRequest } from '../adapters/sqs/erasure-queue';
import { stageResourceNames } from '../local/runtime/resources';
import { eraseOnLocalRuntime } from '../local/runtime/erasure';
import { erasureRequestBody, type ErasureRequest } from '../core/privacy/erasure';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      user: { type: 'string' },
      'anonymous-id': { type: 'string', multiple: true },
      reference: { type: 'string' },
      stage: { type: 'string', default: 'dev' },
      'data-dir': { type: 'string', default: '.local/runtime' },
      'queue-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || (!values.user && !values['anonymous-id']?.length)) {
    console.log('Usage: npm run erase -- --user <id> [--anonymous-id <id>]... [--reference <text>] [--stage dev] [--data-dir .local/runtime] [--queue-url <url>]');
    return values.help ? 0 : 2;
  }
  const request: ErasureRequest = {
    ...(values.user ? { userId: values.user } : {}),
    ...(values['anonymous-id']?.length ? { anonymousIds: values['anonymous-id'] } : {}),
    ...(values.reference ? { reference: values.reference } : {}),
  };
  if (values['queue-url']) {
    const id = await sendErasureRequest(values['queue-url'], erasureRequestBody(request));
    console.log(`erasure requested (message ${id}); the stage's erasure function records it in its audit log when done`);
    return 0;
  }
  const text = await readFile(join(__dirname, '..', 'cdk.json'), 'utf8').catch(() => undefined);
  const stages = text ? ((JSON.parse(text) as { context?: { stages?: unknown } }).context?.stages ?? {}) : {};
  const stage = resolveStage(values.stage, stages);
  if (!process.env.AWS_ENDPOINT_URL && !process.env.AWS_ENDPOINT_URL_DYNAMODB) {
    console.error('no local endpoints in the environment: run `npm start -- --keep-running` and paste the export lines it prints (or pass --queue-url for a deployed stage)');
    return 2;
  }
  const report = await eraseOnLocalRuntime({ stage, names: stageResourceNames(stage), dataDir: resolve(values['data-dir']), request, log: (line) => console.log(line) });
  console.log(JSON.stringify(report, null, 2));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
