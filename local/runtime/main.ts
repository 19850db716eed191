/**
 * `npm start`: the whole pipeline on this machine, with live progress and a summary that reconciles.
 * See `npm start -- --help` and docs/local-and-testing.md, "Run it locally".
 */
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
import { expectedOwners } from '../../core/profiles/expected-owners';
import type { ProfileReader } from '@personalization-data-platform/profile-reader';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { resolveStage, type StageConfig } from '../../lib/config/stage-config';
import { LakeQueryRunner } from '../lake/query-runner';
import { account } from './accounting';
import { LocalRuntime } from './local-runtime';
import { HELP, parseOptions } from './options';
import { localOutputsFile } from './outputs-file';
import { describeProfile, profileDrift } from './profile-view';
import { ProgressDisplay, type Phase, type ProgressSnapshot } from './progress';
import {
  GOLDEN_RECONCILIATION_QUERY,
  lastEventDay,
  localExportSnapshotDay,
  readLakeContents,
  reconciliationVerdict,
  renderSummary,
  runNamedQueries,
  summaryOk,
  type AnonymousReport,
  type SummaryInput,
} from './summary';
import { LocalFreshnessProbes } from './freshness-probes';
import { SyntheticProducer } from './synthetic-producer';

const out = process.stdout;
const say = (line = '') => out.write(`${line}\n`);

/** Lambda polls a caught-up shard once a second; 250 ms keeps a short local run responsive. */
const POLL_INTERVAL_MS = 250;

/** How long Ctrl-C (or a failure) lets the consumers finish their invocations and write the lake buffers. */
const STOP_TIMEOUT_MS = 5_000;
/** Past this, the process exits whatever is still running (the emulators are killed either way). */
const HARD_EXIT_MS = STOP_TIMEOUT_MS + 5_000;
/** A signal repeated within this time is the same one, relayed twice. */
const REPEATED_SIGNAL_MS = 1_000;
/** 128 + the signal number, as shells report a process ended by it. */
const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

async function main(): Promise<number> {
  // The SDK's notice about future Node versions would land in the middle of the progress display.
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name !== 'NodeVersionSupportWarning') process.stderr.write(`${w.name}: ${w.message}\n`);
  });
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed.kind === 'help') {
    say(HELP);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`${parsed.message}\n`);
    return 2;
  }
  const options = parsed.options;
  let stage: StageConfig;
  try {
    stage = resolveStage(options.stage, await userStages());
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const started = Date.now();

  // Each run starts from empty emulators and an empty lake, so its summary reconciles on its own.
  for (const p of ['s3', 'lake', 'runtime.log', 'on-failure.jsonl']) await rm(join(options.dataDir, p), { recursive: true, force: true });

  say(`Starting the local pipeline (stage ${options.stage}; data in ${display(options.dataDir)})`);
  let runtime: LocalRuntime | undefined;
  let producer: SyntheticProducer | undefined;
  let probes: LocalFreshnessProbes | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let ending = false;

  /**
   * Stops everything the run started and exits with `code`, within seconds whatever state the run is in:
   * the consumers get STOP_TIMEOUT_MS to finish their invocations and write the lake buffers, then the
   * emulators are killed; past HARD_EXIT_MS the process exits regardless. A second call (a second Ctrl-C)
   * exits at once.
   */
  const endRun = (code: number) => {
    if (ending) {
      process.stderr.write('Stopping at once.\n');
      runtime?.emulators.killNow();
      process.exit(code);
    }
    ending = true;
    if (ticker) clearInterval(ticker);
    producer?.stop();
    probes?.stop();
    setTimeout(() => {
      process.stderr.write(`Stopping took more than ${HARD_EXIT_MS / 1000} s; exiting anyway.\n`);
      runtime?.emulators.killNow();
      process.exit(code);
    }, HARD_EXIT_MS).unref();
    void (async () => {
      const report = await runtime?.stop({ timeoutMs: STOP_TIMEOUT_MS }).catch(() => undefined);
      if (report && !report.orderly) say(`  not finished within ${STOP_TIMEOUT_MS / 1000} s, abandoned: ${report.unfinished.join(', ')}`);
      if (report?.objectsNotUploaded) {
        say(`  ${report.objectsNotUploaded} lake object(s) not uploaded to the S3 emulator; their local copies are in ${display(runtime!.lakeDir)}`);
      }
      say(`Stopped every process the runtime started (exit code ${code}).`);
      process.exit(code);
    })();
  };

  /** An error the run cannot go on after: said with what failed, then everything is stopped, exit code 1. */
  const failRun = (what: string, err?: unknown) => {
    const detail = err === undefined ? '' : `\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    if (ending) {
      process.stderr.write(`\n(while stopping) ${what}${detail}\n`);
      return;
    }
    process.stderr.write(`\nThe local runtime failed: ${what}${detail}\nStopping every process it started (details in ${display(join(options.dataDir, 'runtime.log'))})...\n`);
    endRun(1);
  };

  let firstSignalAt = 0;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // A wrapper that relays the terminal's signal (tsx's CLI, say) delivers one Ctrl-C twice: a repeat
      // within a second is the same Ctrl-C, not a second one.
      if (ending && Date.now() - firstSignalAt < REPEATED_SIGNAL_MS) return;
      if (!ending) {
        firstSignalAt = Date.now();
        say(`\n${signal}: stopping every process the runtime started (${signal === 'SIGINT' ? 'Ctrl-C again' : 'again'} to stop at once)...`);
      }
      endRun(SIGNAL_EXIT_CODES[signal]);
    });
  }
  process.on('uncaughtException', (err) => failRun(`an unexpected error: ${err.message}`, err));
  process.on('unhandledRejection', (reason) => failRun(`an unexpected error (unhandled rejection): ${reason instanceof Error ? reason.message : String(reason)}`, reason));
  const forever = () => new Promise<number>(() => undefined);

  let phase: Phase = 'starting';
  try {
    runtime = await LocalRuntime.start({
      stage,
      dataDir: options.dataDir,
      windowSeconds: options.windowSeconds,
      bufferMs: options.bufferSeconds * 1000,
      // Small enough that a short run writes several objects per zone; Firehose's minimum is 1 MB.
      bufferBytes: 1024 * 1024,
      pollIntervalMs: POLL_INTERVAL_MS,
    });
    if (ending) return await forever();
    void runtime.failure.then((err) => failRun(err.message, err.cause));
    say(`  emulators: kinesis ${runtime.emulators.endpoints.kinesis}, dynamodb ${runtime.emulators.endpoints.dynamodb}, s3 ${runtime.emulators.endpoints.s3} (pids ${runtime.pids.join(', ')}; runtime pid ${process.pid})`);
    say(`  streams ${runtime.names.rawStream} -> ${runtime.names.validatedStream}, table ${runtime.names.profileTable}, window ${options.windowSeconds} s (stage ${stage.name} deploys ${stage.profiles.windowSeconds} s)`);
    say(
      `Sending ${options.rate} events/s for ${options.durationSeconds} s to ${options.users} users (${pct(options.anonymousRatio)} arrive anonymous, ` +
        `${pct(options.invalidRatio)} invalid, ${pct(options.duplicateRatio)} duplicates, seed ${options.seed})`,
    );
    say();

    producer = new SyntheticProducer({
      streamName: runtime.names.rawStream,
      rate: options.rate,
      workload: {
        users: options.users,
        seed: options.seed,
        invalidRatio: options.invalidRatio,
        duplicateRatio: options.duplicateRatio,
        // Event times follow the send rate, so event-time partitions and sessions look like live traffic.
        meanGapMs: 1000 / options.rate,
      },
      anonymous: { share: options.anonymousRatio },
    });
    // The deployed freshness canary's code, on a local timer: its figures go into the summary.
    probes = new LocalFreshnessProbes(runtime.names, { windowSeconds: options.windowSeconds, bufferSeconds: options.bufferSeconds });
    const display_ = new ProgressDisplay(out, { plain: options.plain });
    phase = 'producing';
    const loadMs = options.durationSeconds * 1000;
    const loadStarted = Date.now();
    const snapshot = (): ProgressSnapshot => snapshotOf(runtime!, producer!, phase, Date.now() - loadStarted, loadMs);
    ticker = setInterval(() => display_.update(snapshot()), out.isTTY && !options.plain ? 250 : 1_000);
    try {
      probes.start();
      await producer.run(loadMs);
      probes.pause();
      if (ending) return await forever();
      phase = 'draining';
      display_.update(snapshot());
      await runtime.settle(60_000);
      if (ending) return await forever();
      phase = 'summarizing';
      display_.update(snapshot());
    } finally {
      clearInterval(ticker);
    }
    display_.finish();

    const summary = await summarize(runtime, producer, probes, Date.now() - started);
    if (ending) return await forever();
    say(summary.text);

    if (options.keepRunning) {
      say('');
      say('Still running. For the AWS CLI or SDKs in another shell:');
      for (const [k, v] of Object.entries(runtime.env)) say(`  export ${k}=${v}`);
      // The names in the shape `cdk deploy --outputs-file` writes: `npm run verify -- --outputs-file <it>`.
      const outputsFile = join(options.dataDir, 'cdk-outputs.json');
      await writeFile(outputsFile, JSON.stringify(localOutputsFile(stage.name, runtime.names), null, 2) + '\n');
      say(`Stage names (cdk deploy --outputs-file shape): ${display(outputsFile)}`);
      say(`  verify it: npm run verify -- --stage ${stage.name} --outputs-file ${display(outputsFile)}`);
      say('Press Ctrl-C to stop every process.');
      return await forever();
    }
    ending = true;
    const report = await runtime.stop();
    if (!report.orderly) say(`  not finished in time, abandoned: ${report.unfinished.join(', ')}`);
    return summary.ok ? 0 : 1;
  } catch (err) {
    if (!ending) failRun(`while ${PHASE_DOING[phase]}: ${(err as Error).message}`, err);
    return await forever();
  }
}

/** What the run was doing in each phase, for error messages. */
const PHASE_DOING: Record<Phase, string> = {
  starting: 'starting the emulators and the stage',
  producing: 'sending the workload',
  draining: 'waiting for the pipeline to process everything sent',
  summarizing: 'reading the lake and the profiles back for the summary',
  running: 'running',
};

function snapshotOf(runtime: LocalRuntime, producer: SyntheticProducer, phase: Phase, elapsedMs: number, loadMs: number): ProgressSnapshot {
  const s = runtime.stats();
  const pending = (stats: { shards: Record<string, { pendingRecords: number }> } | undefined) =>
    Object.values(stats?.shards ?? {}).reduce((sum, shard) => sum + shard.pendingRecords, 0);
  return {
    phase,
    elapsedMs,
    loadMs,
    sent: producer.sent.length,
    sendFailed: producer.failed,
    validated: s.validation.forwarded,
    quarantined: s.validation.quarantined,
    duplicates: s.validation.duplicates,
    profilesUpdated: s.profiles.updates,
    lakeObjects: s.lake.objects,
    iteratorAgeMs: runtime.iteratorAges(),
    // Records written but not yet handed to the function: not yet read, or read and waiting for a batch.
    lag: {
      validate: Math.max(0, producer.sent.length - s.validation.recordsIn) + pending(s.validation.runner),
      aggregate: Math.max(0, s.validation.forwarded - (s.profiles.runner?.recordsDelivered ?? 0)) + pending(s.profiles.runner),
    },
    retries: s.validation.runner.retries + (s.profiles.runner?.retries ?? 0),
    uploadsWaiting: s.lake.raw.pendingUploads + s.lake.curated.pendingUploads,
    ...(s.lake.raw.lastUploadError || s.lake.curated.lastUploadError ? { lastUploadError: s.lake.raw.lastUploadError ?? s.lake.curated.lastUploadError } : {}),
    incidents: runtime.incidents().length,
    readErrors: [s.validation.runner, s.profiles.runner, s.lake.raw.source, s.lake.curated.source].reduce((sum, r) => sum + (r?.readErrors ?? 0), 0),
  };
}

async function summarize(runtime: LocalRuntime, producer: SyntheticProducer, probes: LocalFreshnessProbes, elapsedMs: number) {
  // The lake is flushed by now: every probe's lake object is there to be found.
  const freshness = await probes.report();
  const runner = await LakeQueryRunner.open(runtime.lakeDir);
  try {
    const contents = await readLakeContents(runner);
    const gates = runtime.stats();
    const accounting = account(producer.sent, contents, { raw: gates.lake.rawDroppedByReason.erased_subject ?? 0, validation: gates.validation.droppedErasedSubject });
    const uniqueValid = [...producer.uniqueValid.values()];
    // Every profile the events imply: users (with the anonymous ids linked to them) and anonymous visitors.
    const users = [...new Set(uniqueValid.map(expectedOwners(uniqueValid).owner))];
    // Every profile read the way a personalization service reads it: the typed reader, features derived at
    // one instant. Strongly consistent, so the oracle check sees every acknowledged write.
    const readAt = new Date();
    const reader = runtime.profiles.reader({ now: () => readAt.getTime() });
    const profiles = await reader.getMany(users, { consistent: true });
    const drift = profileDrift(uniqueValid, profiles);
    const anonymous = await anonymousReport(uniqueValid, reader);
    // A snapshot of the profile table in the layout of a DynamoDB export, so the golden-dataset query has one.
    // It is taken after the run, when every event is settled, and stamped with the day after the last event.
    const snapshot = localExportSnapshotDay(await lastEventDay(runner), readAt);
    await runtime.lake.writeProfileExport(
      snapshot,
      [...profiles.values()].map((p) => ({ user_id: p.userId, first_seen: p.item.first_seen, counts: { ...p.counts } })),
    );
    await runner.refresh(runtime.lakeDir);
    const queries = await runNamedQueries(runner);
    const reconciliation = reconciliationVerdict(
      queries.find((q) => q.id === GOLDEN_RECONCILIATION_QUERY),
      snapshot,
    );
    // The heaviest users first: their profiles have the most to show. One GetItem each, as a service would.
    const heaviest = [...profiles.values()].sort((a, b) => b.lifetimeEvents - a.lifetimeEvents || (a.userId < b.userId ? -1 : 1)).slice(0, 3);
    const sample: { userId: string; lines: string[] }[] = [];
    for (const { userId } of heaviest) {
      const profile = await reader.get(userId);
      sample.push({ userId, lines: profile ? describeProfile(profile) : ['(no profile)'] });
    }
    const stats = runtime.stats();
    const files = await runtime.lakeFiles();
    const input: SummaryInput = {
      accounting,
      validatorDuplicates: stats.validation.duplicates,
      quarantinedByReason: stats.validation.quarantinedByReason,
      profiles: { updates: stats.profiles.updates, readAt, sample, drift: { users: users.length, drifted: drift } },
      ...(anonymous ? { anonymous } : {}),
      queries,
      reconciliation,
      onFailureRecords: stats.onFailureRecords,
      onFailureDeliveryErrors: stats.onFailureDeliveryErrors,
      producer: producer.report(),
      delivery: {
        uploadRetries: stats.lake.raw.uploadRetries + stats.lake.curated.uploadRetries,
        pendingUploads: stats.lake.raw.pendingUploads + stats.lake.curated.pendingUploads,
        objectsNotDelivered: stats.lake.raw.objectsNotDelivered + stats.lake.curated.objectsNotDelivered,
        ...(stats.lake.raw.lastUploadError || stats.lake.curated.lastUploadError
          ? { lastUploadError: (stats.lake.raw.lastUploadError ?? stats.lake.curated.lastUploadError)! }
          : {}),
      },
      incidents: [...runtime.incidents()],
      locations: [
        { label: `raw zone (${files.raw} files)`, path: display(runtime.lake.zoneDir('raw')) },
        { label: `curated zone (${files.curated} files)`, path: display(runtime.lake.zoneDir('curated')) },
        { label: `quarantine (${files.quarantine} files)`, path: display(runtime.lake.zoneDir('quarantine')) },
        { label: 'S3 emulator data', path: display(join(runtime.dataDir, 's3')) },
        { label: 'runtime log', path: display(join(runtime.dataDir, 'runtime.log')) },
      ],
      elapsedMs,
      freshness,
    };
    return { text: renderSummary(input), ok: summaryOk(input) };
  } finally {
    runner.close();
  }
}

/**
 * The anonymous visitors of the run (undefined when there were none): every anonymous id an identify event
 * linked to a user is read by its anonymous id, as a personalization service would before the visitor's user
 * id is known, and must resolve to that user's profile.
 */
async function anonymousReport(uniqueValid: readonly BehaviouralEvent[], reader: ProfileReader): Promise<AnonymousReport | undefined> {
  const ids = new Set<string>();
  let events = 0;
  for (const e of uniqueValid) {
    if (e.anonymous_id !== undefined) ids.add(e.anonymous_id);
    if (e.user_id === undefined) events++;
  }
  if (ids.size === 0) return undefined;
  const { links } = expectedOwners(uniqueValid);
  const unresolved: string[] = [];
  for (const [anonymousId, userId] of links) {
    const read = await reader.get({ anonymousId }, { consistent: true });
    const got = read?.resolvedTo;
    if (got?.kind !== 'user' || got.userId !== userId) unresolved.push(`${anonymousId} -> ${got ? (got.kind === 'user' ? got.userId : `anon#${got.anonymousId}`) : 'no profile'}`);
  }
  return { ids: ids.size, events, linked: links.size, resolved: links.size - unresolved.length, unresolved };
}

/** The stages defined in cdk.json (context `stages`), as the CDK app reads them (lib/app.ts). */
async function userStages(): Promise<unknown> {
  const text = await readFile(join(__dirname, '..', '..', 'cdk.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  return (JSON.parse(text) as { context?: { stages?: unknown } }).context?.stages ?? {};
}

function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
