/**
 * The whole pipeline on one machine: emulators on free ports, the stage's streams, table and buckets, the
 * deployed handlers behind the Lambda Kinesis event-source runner with the stage's event-source settings,
 * and the Firehose stand-ins writing the lake. `npm start`, the end-to-end tests and the benchmark all run
 * this one class, so what they show is the same wiring.
 *
 * The handlers run in this process and reach the emulators through the standard AWS variables, which
 * start() sets in process.env (and stop() restores): the handlers cannot tell they are not in Lambda.
 *
 * Failures: a problem the runtime handles (an upload retried, the S3 emulator gone for a while; its data is
 * on disk) is counted, logged and listed in incidents(). A problem it cannot handle (the Kinesis or DynamoDB
 * emulator exits, which loses their in-memory data; an error a component did not expect) resolves failure
 * with what failed, so the caller can report it and stop everything. stop() always ends within its timeout.
 */
import { appendFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { writeFile } from 'node:fs/promises';
import { resolveStage, resourceName, type StageConfig } from '../../lib/config/stage-config';
import { ZONE_PREFIX } from '../../core/lake/layout';
import { dynamoDbClient, kinesisClient, resetClients, s3Client } from '../../adapters/aws-clients';
import { createValidationHandler, VALIDATION_METRICS, type ValidationHandlerConfig } from '../../lambdas/validate/handler';
import { FORWARD_RETRY_POLICY } from '../../core/retry-policy';
import { startEmulators, type EmulatorExit, type Emulators } from '../emulators';
import {
  KinesisEventSourceRunner,
  seededFaults,
  type SeededFaultOptions,
  type FaultInjector,
  type KinesisEventSourceRunnerOptions,
  type OnFailureRecord,
  type RunnerStats,
} from '../event-source/runner';
import { LocalLake } from '../lake/local-lake';
import { injectDynamoDbThrottling, injectDynamoDbWriteOutage, injectKinesisPutOutage, type InjectedOutage, type InjectedThrottling } from './faults';
import { FirehoseStandIn, type DeliveredObject, type FirehoseStandInOptions, type FirehoseStats } from './firehose-standin';
import { VALIDATION_FUNCTION_TIMEOUT_SECONDS, validationMapping } from './event-source-settings';
import { MetricsTap } from './metrics-tap';
import { profilesStage, type ProfilesStage } from './profiles-stage';
import { LambdaEndpoint, type InvokableHandler } from '../lambda-endpoint';
import { provisionStage, stageResourceNames, type StageResourceNames } from './resources';
import { createCurateHandler, CURATE_METRICS } from '../../lambdas/curate/handler';
import { createFrameRawHandler, FRAME_RAW_METRICS } from '../../lambdas/frame-raw/handler';
import { DynamoTombstones } from '../../adapters/dynamodb/tombstones';
import { TombstoneSet } from '../../adapters/dynamodb/tombstone-set';
import { signedTombstoneQuery } from '../../adapters/dynamodb/signed-tombstone-query';
import { documentClient } from '../../adapters/dynamodb/document-client';

/** The runner's seeded faults (crashes after side effects, lost checkpoints, Lambda throttles, delays), plus: */
export interface RuntimeFaults extends SeededFaultOptions {
  /** Share of DynamoDB write attempts answered with ProvisionedThroughputExceededException. */
  dynamoDbThrottle?: number;
  /** These users' profile and ledger writes fail for a while (from their first write): see injectDynamoDbWriteOutage. */
  writeOutage?: OutageFault;
  /** The validated stream refuses these users' records for a while: see injectKinesisPutOutage. */
  forwardOutage?: OutageFault;
}

export interface OutageFault {
  userIds: readonly string[];
  durationMs: number;
  /**
   * The outage also lasts until the failing function (the aggregator for writes, the validation function for
   * forwarding) has given a range up to its on-failure destination, at most OUTAGE_CAP_FACTOR times
   * `durationMs`: a drill that must exercise the on-failure path then does so whatever the machine's speed.
   */
  untilGivenUp?: boolean;
}

export interface LocalRuntimeOptions {
  /** Stage configuration: resource names and event-source settings. @default resolveStage('dev') */
  stage?: StageConfig;
  /** Aggregator tumbling window in seconds. @default the stage's profiles.windowSeconds */
  windowSeconds?: number;
  /** Firehose stand-in buffering interval. @default the stage's lake.firehoseBufferSeconds */
  bufferMs?: number;
  /** Firehose stand-in buffering size hint. @default the stage's lake.firehoseBufferMb */
  bufferBytes?: number;
  /** S3 data of the emulator (`<dataDir>/s3`), the lake copy DuckDB reads (`<dataDir>/lake`), logs. */
  dataDir: string;
  /** How often caught-up shards are polled. @default 1000 (Lambda's rate) */
  pollIntervalMs?: number;
  faults?: RuntimeFaults;
  /** Diagnostic lines (runner decisions, retries); default: appended to `<dataDir>/runtime.log`. */
  log?: (line: string) => void;
}

export interface RuntimeStats {
  validation: {
    recordsIn: number;
    forwarded: number;
    quarantined: number;
    duplicates: number;
    quarantinedByReason: Record<string, number>;
    /** Records of erased subjects the function dropped (neither quarantined nor forwarded). */
    droppedErasedSubject: number;
    runner: RunnerStats;
  };
  profiles: ReturnType<ProfilesStage['stats']>;
  lake: {
    raw: FirehoseStats;
    curated: FirehoseStats;
    objects: number;
    /** What the raw delivery's transformation dropped (erased subjects), by reason. */
    rawDroppedByReason: Record<string, number>;
    curatedDroppedByReason: Record<string, number>;
  };
  onFailureRecords: number;
  /** On-failure records the destination did not take after the runners' retries. */
  onFailureDeliveryErrors: number;
  dynamoDbThrottled: number;
  /** Requests failed by the injected outages. */
  outageFailures: number;
}

/** What stop() managed to do in its time. */
export interface StopReport {
  /** Every consumer stopped and every lake buffer was written before the timeout. */
  orderly: boolean;
  /** The parts that had not finished when the timeout passed (they were abandoned; the emulators were killed). */
  unfinished: string[];
  /** Lake objects written locally but not uploaded to the S3 emulator. */
  objectsNotUploaded: number;
}

/** How long stop() lets the consumers finish their invocations and write their buffers by default. */
export const DEFAULT_STOP_TIMEOUT_MS = 15_000;

/** Problems seen while running: the handled ones (incidents) and the first one the runtime cannot go on after. */
class RuntimeHealth {
  readonly incidents: string[] = [];
  private firstFailure?: Error;
  private notify!: (err: Error) => void;
  readonly failure: Promise<Error> = new Promise((resolve) => (this.notify = resolve));
  stopping = false;
  private readonly startedAt = Date.now();

  constructor(readonly log: (line: string) => void) {}

  incident(text: string): void {
    const line = `${text} (${((Date.now() - this.startedAt) / 1000).toFixed(1)} s into the run)`;
    this.incidents.push(line);
    this.log(`incident: ${line}`);
  }

  fail(err: Error): void {
    this.log(`failure: ${err.message}`);
    if (this.firstFailure) return;
    this.firstFailure = err;
    this.notify(err);
  }

  emulatorExited(exit: EmulatorExit): void {
    if (this.stopping) return;
    const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
    if (exit.name === 's3') {
      // s3rver keeps its buckets on disk: uploads are retried (and reported) until it is back.
      this.incident(`the s3 emulator (pid ${exit.pid}) exited (${how}); uploads are retried until it is back`);
      return;
    }
    const tail = exit.outputTail.length ? ` Its last output:\n${exit.outputTail.join('\n')}` : '';
    this.fail(new Error(`the ${exit.name} emulator (pid ${exit.pid}) exited (${how}); it kept its data in memory, so the run cannot go on.${tail}`));
  }
}

/**
 * Environment variables naming the stage's resources, printed by `npm start -- --keep-running`; those the
 * end-to-end suite reads are documented in docs/local-and-testing.md, "End-to-end tests".
 */
export const RESOURCE_ENV = {
  rawStream: 'PDP_RAW_STREAM',
  validatedStream: 'PDP_VALIDATED_STREAM',
  profileTable: 'PDP_PROFILE_TABLE',
  ledgerTable: 'PDP_LEDGER_TABLE',
  validationFunction: 'PDP_VALIDATION_FUNCTION',
  aggregatorFunction: 'PDP_AGGREGATOR_FUNCTION',
  rawBucket: 'PDP_RAW_BUCKET',
  curatedBucket: 'PDP_CURATED_BUCKET',
  quarantineBucket: 'PDP_QUARANTINE_BUCKET',
} as const satisfies Record<keyof StageResourceNames, string>;

/** What a started runtime is made of (start() builds it). */
interface RuntimeParts {
  readonly stage: StageConfig;
  readonly names: StageResourceNames;
  readonly emulators: Emulators;
  readonly dataDir: string;
  readonly lake: LocalLake;
  /** The environment before start() changed it. */
  readonly savedEnv: NodeJS.ProcessEnv;
  readonly validation: ValidationFunction & { readonly runner: KinesisEventSourceRunner };
  readonly profiles: ProfilesStage;
  readonly rawDelivery: FirehoseStandIn;
  readonly curatedDelivery: FirehoseStandIn;
  readonly faults: InjectedFaults;
  /** The functions behind a Lambda Invoke endpoint (AWS_ENDPOINT_URL_LAMBDA): what a redrive invokes. */
  readonly functions: LambdaEndpoint;
  readonly health: RuntimeHealth;
}

export class LocalRuntime {
  readonly stage: StageConfig;
  readonly names: StageResourceNames;
  readonly emulators: Emulators;
  readonly dataDir: string;
  readonly lake: LocalLake;
  readonly profiles: ProfilesStage;
  /** The functions behind a Lambda Invoke endpoint (AWS_ENDPOINT_URL_LAMBDA): what a redrive invokes. */
  readonly functions: LambdaEndpoint;
  private stopped?: Promise<StopReport>;
  private objects = 0;
  /** What the curated delivery's transformation dropped (consent, erased subjects), by reason. */
  private curationMetrics?: MetricsTap;
  /** What the raw delivery's transformation dropped (erased subjects), by reason. */
  private framingMetrics?: MetricsTap;

  private constructor(private readonly parts: RuntimeParts) {
    ({ stage: this.stage, names: this.names, emulators: this.emulators, dataDir: this.dataDir, lake: this.lake, profiles: this.profiles, functions: this.functions } = parts);
  }

  /** Starts everything; on any failure stops what was started and rethrows. */
  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const stage = options.stage ?? resolveStage('dev');
    const names = stageResourceNames(stage);
    const dataDir = options.dataDir;
    await mkdir(dataDir, { recursive: true });
    const logFile = join(dataDir, 'runtime.log');
    const log = options.log ?? ((line: string) => void appendFile(logFile, `${new Date().toISOString()} ${line}\n`).catch(() => undefined));

    const savedEnv = { ...process.env };
    const health = new RuntimeHealth(log);
    const cleanup: (() => Promise<unknown> | unknown)[] = [];
    const undo = async () => {
      for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
    };
    try {
      const s3Dir = join(dataDir, 's3');
      await mkdir(s3Dir, { recursive: true });
      const emulators = await startEmulators({ kinesis: true, dynamodb: true, s3: true, s3Dir, log, onExit: (e) => health.emulatorExited(e) });
      cleanup.push(() => {
        health.stopping = true;
        return emulators.stop();
      });
      Object.assign(process.env, emulators.env, envOfNames(names));
      resetClients();
      cleanup.push(() => {
        resetClients();
        restoreEnv(savedEnv);
      });

      const profiles = profilesStage(stage, names);
      await provisionStage(stage, names, profiles.tables);
      const lake = await LocalLake.open(join(dataDir, 'lake'));
      cleanup.push(() => lake.close());

      const faults = injectFaults(options, names, join(dataDir, 'on-failure.jsonl'));
      cleanup.push(() => faults.remove());
      const common: Pick<KinesisEventSourceRunnerOptions, 'pollIntervalMs' | 'log' | 'faults' | 'onFailure'> = {
        pollIntervalMs: options.pollIntervalMs ?? 1_000,
        log,
        onFailure: faults.destination,
        ...(faults.injector ? { faults: faults.injector } : {}),
      };

      // The validation function with its deployed configuration and event-source mapping
      // (lib/ingestion/validation-stage.ts), setting for setting.
      const validationFunction = createValidationFunction(stage, names);
      const validation = {
        ...validationFunction,
        runner: new KinesisEventSourceRunner({ ...common, ...validationFunction.runnerOptions(stage), streamName: names.rawStream, functionName: names.validationFunction }),
      };
      // The runner invokes one batch per shard at a time (see event-source-settings.ts).
      if (stage.validation.parallelizationFactor > 1) {
        log(`validation: the stage's parallelizationFactor ${stage.validation.parallelizationFactor} runs locally as 1 concurrent batch per shard`);
      }
      await validation.runner.start();
      cleanup.push(() => validation.runner.stop());

      const windowSeconds = options.windowSeconds ?? stage.profiles.windowSeconds;
      await profiles.start({ ...common, windowSeconds });
      cleanup.push(() => profiles.stop());

      // Invoke for the same functions, as a redrive (or any tool that invokes the deployed functions) calls them.
      const functions = new LambdaEndpoint({
        timeoutMs: (name) => (name === names.aggregatorFunction ? stage.profiles.timeoutSeconds : VALIDATION_FUNCTION_TIMEOUT_SECONDS) * 1000,
        log,
      });
      functions.register(names.validationFunction, validation.createHandler() as InvokableHandler);
      functions.register(names.aggregatorFunction, profiles.createHandler() as InvokableHandler);
      process.env.AWS_ENDPOINT_URL_LAMBDA = await functions.start();
      cleanup.push(() => functions.stop());

      let runtime: LocalRuntime | undefined;
      const onObject = () => {
        if (runtime) runtime.objects++;
      };
      const curationMetrics = new MetricsTap();
      const tombstones = new DynamoTombstones({ ledgerTableName: names.ledgerTable, client: documentClient(), cacheMs: 0 });
      // The deployed curated stream's transformation (lambdas/curate): consent and tombstones. Tombstones are
      // read afresh each batch here, where the deployed function caches them for a minute.
      const curate = createCurateHandler({ erased: () => tombstones.hashes(), logger: new Logger({ logLevel: 'WARN' }), metrics: curationMetrics });
      // The deployed raw stream's transformation (lambdas/frame-raw), for its gate: records of erased subjects
      // come back Dropped and are not delivered. (The local lake frames the records it is given itself, with
      // the same core/lake/raw-framing.ts.)
      const framingMetrics = new MetricsTap();
      const frameRaw = createFrameRawHandler({ erased: () => tombstones.hashes(), logger: new Logger({ logLevel: 'WARN' }), metrics: framingMetrics });
      const delivery = lakeDelivery(stage, names, options, { lake, health, log, onObject, curate, frameRaw });
      const rawDelivery = delivery('raw');
      const curatedDelivery = delivery('curated');
      await rawDelivery.start();
      cleanup.push(() => rawDelivery.stop());
      await curatedDelivery.start();
      cleanup.push(() => curatedDelivery.stop());

      runtime = new LocalRuntime({ stage, names, emulators, dataDir, lake, savedEnv, validation, profiles, rawDelivery, curatedDelivery, faults, functions, health });
      runtime.curationMetrics = curationMetrics;
      runtime.framingMetrics = framingMetrics;
      return runtime;
    } catch (err) {
      await undo();
      throw err;
    }
  }

  /** The endpoints and resource names, as a user (or the end-to-end suite) would set them. */
  get env(): Record<string, string> {
    return { ...this.emulators.env, AWS_ENDPOINT_URL_LAMBDA: this.functions.endpoint, ...envOfNames(this.names) };
  }

  get pids(): number[] {
    return this.emulators.pids;
  }

  get lakeDir(): string {
    return this.lake.root;
  }

  stats(): RuntimeStats {
    const m = VALIDATION_METRICS;
    const { validation, rawDelivery, curatedDelivery, faults } = this.parts;
    const t = validation.metrics;
    return {
      validation: {
        recordsIn: t.total(m.recordsIn),
        forwarded: t.total(m.forwarded),
        quarantined: t.total(m.quarantined),
        duplicates: t.total(m.duplicates),
        quarantinedByReason: t.breakdown(m.quarantined, 'reason'),
        droppedErasedSubject: t.total(m.dropped),
        runner: validation.runner.stats(),
      },
      profiles: this.profiles.stats(),
      lake: {
        raw: rawDelivery.stats(),
        curated: curatedDelivery.stats(),
        objects: this.objects,
        rawDroppedByReason: this.framingMetrics?.breakdown(FRAME_RAW_METRICS.dropped, 'reason') ?? {},
        curatedDroppedByReason: this.curationMetrics?.breakdown(CURATE_METRICS.dropped, 'reason') ?? {},
      },
      onFailureRecords: faults.onFailure.length,
      onFailureDeliveryErrors: validation.runner.stats().onFailureDeliveryErrors + (this.profiles.stats().runner?.onFailureDeliveryErrors ?? 0),
      dynamoDbThrottled: faults.throttling?.throttled() ?? 0,
      outageFailures: faults.outages.reduce((n, o) => n + o.failed(), 0),
    };
  }

  /**
   * Iterator age of each consumer now, in ms: records in flight or waiting count, so a hang shows as a
   * growing age. For the lake, the age of the oldest record not yet in S3 (Firehose's DataFreshness).
   */
  iteratorAges(): { validate: number; aggregate: number; lake: number } {
    const { validation, rawDelivery, curatedDelivery } = this.parts;
    return {
      validate: validation.runner.iteratorAgeMs(),
      aggregate: this.profiles.iteratorAgeMs(),
      lake: Math.max(rawDelivery.iteratorAgeMs(), curatedDelivery.iteratorAgeMs(), rawDelivery.dataFreshnessMs(), curatedDelivery.dataFreshnessMs()),
    };
  }

  /** Resolves with the first problem the runtime cannot go on after (see the class comment); never rejects. */
  get failure(): Promise<Error> {
    return this.parts.health.failure;
  }

  /** Problems the runtime handled and went on after, one line each, in order. */
  incidents(): readonly string[] {
    return this.parts.health.incidents;
  }

  onFailureRecords(): readonly OnFailureRecord[] {
    return this.parts.faults.onFailure;
  }

  /**
   * Processes everything sent so far to the end: validation caught up, the aggregator's open windows
   * closed into the profiles, every buffered lake record written, and the quarantine objects copied next to
   * the lake DuckDB reads.
   */
  async settle(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(1_000, deadline - Date.now());
    const { validation, rawDelivery, curatedDelivery } = this.parts;
    await validation.runner.drain({ timeoutMs: left() });
    await this.profiles.drain(left());
    await Promise.all([rawDelivery.catchUp(left()), curatedDelivery.catchUp(left())]);
    await Promise.all([rawDelivery.flush(), curatedDelivery.flush()]);
    await this.mirrorQuarantine();
  }

  /** Copies the quarantine zone's objects (written to S3 by the validation function) into the local lake. */
  async mirrorQuarantine(): Promise<number> {
    try {
      return await this.copyQuarantine();
    } catch (err) {
      throw new Error(`copying the quarantine zone from the S3 emulator failed: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
    }
  }

  private async copyQuarantine(): Promise<number> {
    let copied = 0;
    let token: string | undefined;
    const present = new Set(await this.lake.list('quarantine'));
    do {
      const page: ListObjectsV2CommandOutput = await s3Client().send(
        new ListObjectsV2Command({ Bucket: this.names.quarantineBucket, Prefix: ZONE_PREFIX.quarantine, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        // Keys are deterministic per batch; a retried batch overwrites its object, so copy every time.
        const got = await s3Client().send(new GetObjectCommand({ Bucket: this.names.quarantineBucket, Key: o.Key }));
        const path = this.lake.pathOf('quarantine', o.Key);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, Buffer.from(await got.Body!.transformToByteArray()));
        if (!present.has(o.Key)) copied++;
      }
      token = page.NextContinuationToken;
    } while (token);
    return copied;
  }

  /** Files of the local lake per zone (for the summary). */
  async lakeFiles(): Promise<Record<'raw' | 'curated' | 'quarantine', number>> {
    const count = async (zone: 'raw' | 'curated' | 'quarantine') =>
      (await readdir(this.lake.zoneDir(zone), { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).length;
    return { raw: await count('raw'), curated: await count('curated'), quarantine: await count('quarantine') };
  }

  /**
   * Stops every consumer (writing what the lake stand-ins hold) and every emulator, and restores the
   * environment. The consumers get timeoutMs to finish their invocations and write their buffers, all at
   * once; whatever has not finished by then is abandoned (and named in the report) and the emulators are
   * killed anyway, so stop() always ends. Idempotent: later calls get the first call's report.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<StopReport> {
    const { validation, rawDelivery, curatedDelivery, faults, health, savedEnv } = this.parts;
    this.stopped ??= (async () => {
      health.stopping = true;
      const unfinished = new Set<string>();
      const part = (name: string, stopping: Promise<unknown>) => {
        unfinished.add(name);
        return stopping.then(
          () => unfinished.delete(name),
          (err: unknown) => {
            unfinished.delete(name);
            this.log(`stopping ${name} failed: ${(err as Error).message}`);
          },
        );
      };
      const consumers = Promise.all([
        part('validation', validation.runner.stop()),
        part('aggregation', this.profiles.stop()),
        part('raw lake delivery', rawDelivery.stop()),
        part('curated lake delivery', curatedDelivery.stop()),
        part('lambda endpoint', this.functions.stop()),
      ]);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        consumers.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (timedOut) this.log(`stop: ${[...unfinished].join(', ')} had not finished in time; abandoned`);
      faults.remove();
      // A lake write still running uses the DuckDB connection: closing it under that write is not safe.
      if (!timedOut) await this.lake.close().catch(() => undefined);
      resetClients();
      restoreEnv(savedEnv);
      await this.emulators.stop();
      const objectsNotUploaded = [rawDelivery, curatedDelivery].reduce((n, d) => n + d.stats().pendingUploads + d.stats().objectsNotDelivered, 0);
      return { orderly: !timedOut, unfinished: [...unfinished], objectsNotUploaded };
    })();
    return this.stopped;
  }

  private log(line: string): void {
    this.parts.health.log(line);
  }
}

function envOfNames(names: StageResourceNames): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, variable] of Object.entries(RESOURCE_ENV)) out[variable] = names[key as keyof StageResourceNames];
  return out;
}

function restoreEnv(saved: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
}

/** The faults a run injects, and the on-failure destination that keeps what the consumers give up on. */
interface InjectedFaults {
  readonly injector?: FaultInjector;
  readonly throttling?: InjectedThrottling;
  readonly outages: readonly InjectedOutage[];
  /** Every on-failure record of the run, in order. */
  readonly onFailure: OnFailureRecord[];
  /** The on-failure destination: an SQS queue in AWS; locally the records are kept and appended to a file. */
  readonly destination: (record: OnFailureRecord) => Promise<void>;
  remove(): void;
}

function injectFaults(options: LocalRuntimeOptions, names: StageResourceNames, onFailureFile: string): InjectedFaults {
  const f = options.faults;
  const onFailure: OnFailureRecord[] = [];
  const gaveUp = (functionName: string) => () => onFailure.some((r) => r.requestContext.functionArn.endsWith(`:${functionName}`));
  const outage = (fault: OutageFault, functionName: string) => ({
    userIds: fault.userIds,
    durationMs: fault.durationMs,
    ...(fault.untilGivenUp ? { healWhen: gaveUp(functionName) } : {}),
  });
  const throttling = f?.dynamoDbThrottle && f.dynamoDbThrottle > 0 ? injectDynamoDbThrottling(dynamoDbClient(), { seed: f.seed, probability: f.dynamoDbThrottle }) : undefined;
  const outages: InjectedOutage[] = [];
  if (f?.writeOutage) outages.push(injectDynamoDbWriteOutage(dynamoDbClient(), outage(f.writeOutage, names.aggregatorFunction)));
  if (f?.forwardOutage) outages.push(injectKinesisPutOutage(kinesisClient(), { streamName: names.validatedStream, ...outage(f.forwardOutage, names.validationFunction) }));
  return {
    ...(f ? { injector: seededFaults({ ...f }) } : {}),
    ...(throttling ? { throttling } : {}),
    outages,
    onFailure,
    destination: async (record) => {
      onFailure.push(record);
      await appendFile(onFailureFile, `${JSON.stringify(record)}\n`);
    },
    remove() {
      throttling?.remove();
      for (const o of outages) o.remove();
    },
  };
}

/** The validation function as deployed: its configuration from the stage, its metrics, its event-source mapping. */
interface ValidationFunction {
  readonly config: ValidationHandlerConfig;
  readonly metrics: MetricsTap;
  /** A handler with the deployed configuration (one for the runner, one behind the Invoke endpoint; both count into `metrics`). */
  createHandler(): ReturnType<typeof createValidationHandler>;
  runnerOptions(stage: StageConfig): Pick<KinesisEventSourceRunnerOptions, 'handler'> & ReturnType<typeof validationMapping>;
}

function createValidationFunction(stage: StageConfig, names: StageResourceNames): ValidationFunction {
  const v = stage.validation;
  const metrics = new MetricsTap();
  const config: ValidationHandlerConfig = {
    validatedStreamName: names.validatedStream,
    quarantineBucket: names.quarantineBucket,
    validation: { maxEventBytes: v.maxEventBytes, maxFutureSkewMs: v.maxFutureSkewSeconds * 1000, maxPastAgeMs: v.maxPastAgeSeconds * 1000 },
    quarantinePayloadMaxBytes: v.quarantinePayloadMaxBytes,
    forwardRetry: FORWARD_RETRY_POLICY,
    ledgerTableName: names.ledgerTable,
  };
  // The deployed reader of the tombstones (a signed Query), read afresh each batch here where the deployed
  // function caches them for a minute: a local erasure takes effect at once.
  const kinesis = kinesisClient();
  const tombstones = new TombstoneSet(
    signedTombstoneQuery({
      ledgerTableName: names.ledgerTable,
      region: kinesis.config.region,
      credentials: kinesis.config.credentials,
      endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.AWS_ENDPOINT_URL || undefined,
      retry: config.forwardRetry,
    }),
    { cacheMs: 0 },
  );
  // Handler logs would tear through the progress display; the runner's log keeps what went wrong.
  const createHandler = () => createValidationHandler({ config, metrics, erased: () => tombstones.hashes(), logger: new Logger({ logLevel: 'SILENT' }) });
  return {
    config,
    metrics,
    createHandler,
    runnerOptions: (s) => ({ handler: createHandler() as KinesisEventSourceRunnerOptions['handler'], ...validationMapping(s) }),
  };
}

/** The Firehose stand-in of one zone, with the stage's names and buffering (or the run's). */
function lakeDelivery(
  stage: StageConfig,
  names: StageResourceNames,
  options: LocalRuntimeOptions,
  run: {
    lake: LocalLake;
    health: RuntimeHealth;
    log: (line: string) => void;
    onObject: (o: DeliveredObject) => void;
    curate: FirehoseStandInOptions['transform'];
    frameRaw: FirehoseStandInOptions['transform'];
  },
): (format: 'raw' | 'curated') => FirehoseStandIn {
  return (format) =>
    new FirehoseStandIn({
      deliveryStreamName: resourceName(stage, `${format}-to-lake`),
      streamName: format === 'raw' ? names.rawStream : names.validatedStream,
      bucket: format === 'raw' ? names.rawBucket : names.curatedBucket,
      format,
      lake: run.lake,
      bufferIntervalMs: options.bufferMs ?? stage.lake.firehoseBufferSeconds * 1000,
      bufferBytes: options.bufferBytes ?? stage.lake.firehoseBufferMb * 1024 * 1024,
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      onObject: run.onObject,
      onError: (err) => run.health.fail(err),
      log: run.log,
      ...(format === 'curated' && run.curate ? { transform: run.curate } : {}),
      ...(format === 'raw' && run.frameRaw ? { transform: run.frameRaw } : {}),
    });
}
