import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbClient, kinesisClient, resetClients, s3Client } from '../../adapters/aws-clients';
import { startEmulators, type EmulatorExit, type Emulators } from '../../local/emulators';
import { isRunning, waitUntilGone } from '../support/processes';


describe('startEmulators', { timeout: 30_000 }, () => {
  let all: Emulators;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    all = await startEmulators({ kinesis: true, dynamodb: true, s3: true });
    Object.assign(process.env, all.env);
    resetClients();
  }, 60_000);

  afterAll(async () => {
    resetClients();
    process.env = savedEnv;
    await all?.stop();
  });

  it('starts each requested emulator on its own free port of 127.0.0.1', () => {
    const urls = [all.endpoints.kinesis, all.endpoints.dynamodb, all.endpoints.s3];
    for (const url of urls) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new Set(urls).size).toBe(3);
    expect(all.pids).toHaveLength(3);
    expect(all.pids.every(isRunning)).toBe(true);
  });

  it('exposes the endpoints as the standard AWS variables with a region and dummy credentials', () => {
    expect(all.env).toMatchObject({
      AWS_ENDPOINT_URL_KINESIS: all.endpoints.kinesis,
      AWS_ENDPOINT_URL_DYNAMODB: all.endpoints.dynamodb,
      AWS_ENDPOINT_URL_S3: all.endpoints.s3,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: expect.any(String),
      AWS_SECRET_ACCESS_KEY: expect.any(String),
    });
  });

  it('lets the shared SDK clients reach every emulator through those variables alone', async () => {
    const kinesis = kinesisClient();
    await kinesis.send(new CreateStreamCommand({ StreamName: 'emulator-check', ShardCount: 1 }));
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'emulator-check' }));
    expect(summary.StreamDescriptionSummary?.StreamARN).toBe('arn:aws:kinesis:us-east-1:000000000000:stream/emulator-check');
    // Larger than the ~8 KB at which HTTP/2 breaks on kinesis-local.
    await kinesis.send(new PutRecordCommand({ StreamName: 'emulator-check', PartitionKey: 'k', Data: Buffer.alloc(64 * 1024, 1) }));

    expect((await dynamoDbClient().send(new ListTablesCommand({}))).TableNames).toEqual([]);

    await s3Client().send(new CreateBucketCommand({ Bucket: 'emulator-check' }));
    await s3Client().send(new PutObjectCommand({ Bucket: 'emulator-check', Key: 'zone/a.json', Body: '{"ok":true}' }));
    const object = await s3Client().send(new GetObjectCommand({ Bucket: 'emulator-check', Key: 'zone/a.json' }));
    expect(await object.Body?.transformToString()).toBe('{"ok":true}');
  });

  it('starts only the emulators that were asked for, and stop() kills them and is idempotent', async () => {
    const dynamoOnly = await startEmulators({ dynamodb: true });
    expect(Object.keys(dynamoOnly.endpoints)).toEqual(['dynamodb']);
    expect(dynamoOnly.env.AWS_ENDPOINT_URL_KINESIS).toBeUndefined();
    const client = new DynamoDBClient({ endpoint: dynamoOnly.endpoints.dynamodb });
    await client.send(new ListTablesCommand({}));
    client.destroy();

    await Promise.all([dynamoOnly.stop(), dynamoOnly.stop()]);
    await dynamoOnly.stop();
    expect(dynamoOnly.pids.some(isRunning)).toBe(false);
  });

  it('keeps S3 data in the given directory, or in a temporary one it removes on stop', async () => {
    const given = mkdtempSync(join(tmpdir(), 's3-given-'));
    try {
      const withDir = await startEmulators({ s3: true, s3Dir: given });
      expect(withDir.s3Dir).toBe(given);
      await withDir.stop();
      expect(existsSync(given)).toBe(true);
    } finally {
      rmSync(given, { recursive: true, force: true });
    }

    expect(all.s3Dir && existsSync(all.s3Dir)).toBe(true);
    const temporary = await startEmulators({ s3: true });
    expect(temporary.s3Dir && existsSync(temporary.s3Dir)).toBe(true);
    await temporary.stop();
    expect(existsSync(temporary.s3Dir!)).toBe(false);
  });

  it('fails with the emulator name and its last output when it is not ready in time', async () => {
    await expect(startEmulators({ dynamodb: true, readyTimeoutMs: 1 })).rejects.toThrow(
      /dynamodb emulator did not answer http:\/\/127\.0\.0\.1:\d+\/ within 1 ms/,
    );
  });

  it('kills its emulators when the owning process exits without stopping them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulators-crash-'));
    try {
      const script = join(dir, 'crash.ts');
      writeFileSync(
        script,
        `import { startEmulators } from ${JSON.stringify(resolve(__dirname, '../../local/emulators'))};\n` +
          `startEmulators({ dynamodb: true }).then((e) => { console.log(JSON.stringify(e.pids)); process.exit(3); });\n`,
      );
      const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
        cwd: resolve(__dirname, '../..'),
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(child.status).toBe(3);
      const pids = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as number[];
      expect(pids).toHaveLength(1);
      await waitUntilGone(pids);
      expect(pids.some(isRunning)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs each emulator in a process group of its own, so a Ctrl-C on the terminal reaches only its owner', () => {
    for (const pid of all.pids) {
      const pgid = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
      expect(pgid).toBe(pid);
      expect(pgid).not.toBe(Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' }).trim()));
    }
  });

  it('lets every emulator exit by itself when its owner is killed with SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulators-sigkill-'));
    try {
      const script = join(dir, 'owner.ts');
      mkdirSync(join(dir, 's3'));
      writeFileSync(
        script,
        `import { startEmulators } from ${JSON.stringify(resolve(__dirname, '../../local/emulators'))};\n` +
          `startEmulators({ kinesis: true, dynamodb: true, s3: true, s3Dir: ${JSON.stringify(join(dir, 's3'))} }).then((e) => console.log(JSON.stringify(e.pids)));\n` +
          `setInterval(() => undefined, 1000);\n`,
      );
      const owner = spawn(process.execPath, ['--import', 'tsx', script], { cwd: resolve(__dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
      const pids = await new Promise<number[]>((done, fail) => {
        let out = '';
        owner.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          const line = out.split('\n').find((l) => l.startsWith('['));
          if (line) done(JSON.parse(line) as number[]);
        });
        owner.once('exit', (code) => fail(new Error(`the owner exited early with ${code}`)));
      });
      expect(pids).toHaveLength(3);
      expect(pids.every(isRunning)).toBe(true);
      owner.kill('SIGKILL');
      await waitUntilGone(pids, 5_000);
      expect(pids.filter(isRunning)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports an emulator that exits on its own, and restarts it on the same port with its data, less the writes it did not finish', async () => {
    const exits: EmulatorExit[] = [];
    const own = await startEmulators({ s3: true, onExit: (e) => exits.push(e) });
    const client = new S3Client({ endpoint: own.endpoints.s3, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    try {
      await client.send(new CreateBucketCommand({ Bucket: 'kept' }));
      await client.send(new PutObjectCommand({ Bucket: 'kept', Key: 'a', Body: 'before' }));
      await client.send(new PutObjectCommand({ Bucket: 'kept', Key: 'cut/b', Body: 'half' }));
      const first = own.pid('s3')!;
      process.kill(first, 'SIGKILL');
      await waitUntilGone([first]);
      // As if it had been killed while writing cut/b: its metadata (written last) is cut short.
      writeFileSync(join(own.s3Dir!, 'kept', 'cut', 'b._S3rver_metadata.json'), '{"content-ty');
      await new Promise((r) => setTimeout(r, 50));
      expect(own.isRunning('s3')).toBe(false);
      expect(exits).toEqual([expect.objectContaining({ name: 's3', pid: first, signal: 'SIGKILL' })]);

      await own.restart('s3');
      expect(own.isRunning('s3')).toBe(true);
      expect(own.pid('s3')).not.toBe(first);
      const got = await client.send(new GetObjectCommand({ Bucket: 'kept', Key: 'a' }));
      expect(await got.Body?.transformToString()).toBe('before');
      // The unfinished object is gone, as S3 never stores a PUT it did not complete, and listing works.
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'kept' }));
      expect(listed.Contents?.map((o) => o.Key)).toEqual(['a']);
    } finally {
      client.destroy();
      await own.stop();
    }
    // Stopping on purpose is not an unexpected exit.
    expect(exits).toHaveLength(1);
  });
});
