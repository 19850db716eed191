/**
 * Live progress of the local runtime: a small panel redrawn in place on a terminal, or one plain line per
 * update when stdout is not a TTY (CI logs, pipes). Rendering is pure; ProgressDisplay only writes.
 */

export type Phase = 'starting' | 'producing' | 'draining' | 'summarizing' | 'running';

export interface ProgressSnapshot {
  phase: Phase;
  elapsedMs: number;
  /** Planned load duration (0 when unknown). */
  loadMs: number;
  /** Records accepted by PutRecords. */
  sent: number;
  /** Records the producer gave up on after its retries. */
  sendFailed: number;
  /** Records written to the validated stream. */
  validated: number;
  /** Records written to the quarantine zone. */
  quarantined: number;
  /** Records the validator dropped as duplicates. */
  duplicates: number;
  /** Conditional profile updates that succeeded. */
  profilesUpdated: number;
  /** Objects written into the lake by the Firehose stand-ins. */
  lakeObjects: number;
  /** Age of the last record processed per consumer, in ms. */
  iteratorAgeMs: { validate: number; aggregate: number; lake: number };
  /** Records written but not yet read, per consumer. */
  lag: { validate: number; aggregate: number };
  /** Invocations that failed and were retried (all consumers). */
  retries: number;
  /** Lake objects whose upload to S3 is being retried. */
  uploadsWaiting?: number;
  /** Why the last of them failed. */
  lastUploadError?: string;
  /** Problems the runtime handled (an emulator that exited, say); details in runtime.log. */
  incidents?: number;
  /** Polls of the streams that failed and were repeated (all consumers). */
  readErrors?: number;
}

function n(x: number): string {
  return x.toLocaleString('en-US');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function bar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

const PHASE_LABEL: Record<Phase, string> = {
  starting: 'starting',
  producing: 'sending',
  draining: 'draining',
  summarizing: 'summarizing',
  running: 'running',
};

/** The multi-line panel shown on a terminal. */
export function renderPanel(s: ProgressSnapshot): string[] {
  const progress =
    s.phase === 'producing' && s.loadMs > 0
      ? `${bar(s.elapsedMs / s.loadMs, 30)} ${seconds(Math.min(s.elapsedMs, s.loadMs))} / ${seconds(s.loadMs)}`
      : seconds(s.elapsedMs);
  return [
    `${PHASE_LABEL[s.phase].padEnd(11)} ${progress}`,
    `  sent         ${n(s.sent).padStart(9)}${s.sendFailed ? `   (failed ${n(s.sendFailed)})` : ''}`,
    `  validated    ${n(s.validated).padStart(9)}   quarantined ${n(s.quarantined).padStart(7)}   duplicates dropped ${n(s.duplicates).padStart(6)}`,
    `  profiles     ${n(s.profilesUpdated).padStart(9)} updates   lake objects ${n(s.lakeObjects).padStart(6)}   retries ${n(s.retries)}`,
    `  lag          validate ${n(s.lag.validate)} rec, age ${seconds(s.iteratorAgeMs.validate)}   ` +
      `aggregate ${n(s.lag.aggregate)} rec, age ${seconds(s.iteratorAgeMs.aggregate)}   lake age ${seconds(s.iteratorAgeMs.lake)}`,
    ...(s.uploadsWaiting || s.incidents || s.readErrors ? [`  problems     ${problems(s)}`] : []),
  ];
}

function problems(s: ProgressSnapshot): string {
  const parts: string[] = [];
  if (s.uploadsWaiting) parts.push(`${n(s.uploadsWaiting)} lake upload(s) retrying${s.lastUploadError ? ` (${s.lastUploadError.slice(0, 60)})` : ''}`);
  if (s.readErrors) parts.push(`${n(s.readErrors)} failed stream poll(s), retried`);
  if (s.incidents) parts.push(`${n(s.incidents)} incident(s), see runtime.log`);
  return parts.join('   ');
}

/** The single line written per update when stdout is not a terminal. */
export function renderLine(s: ProgressSnapshot): string {
  return (
    `[${seconds(s.elapsedMs).padStart(6)}] ${PHASE_LABEL[s.phase]} sent=${s.sent} validated=${s.validated} ` +
    `quarantined=${s.quarantined} duplicates=${s.duplicates} profiles_updated=${s.profilesUpdated} ` +
    `lake_objects=${s.lakeObjects} lag=${s.lag.validate}/${s.lag.aggregate} ` +
    `iterator_age_ms=${s.iteratorAgeMs.validate}/${s.iteratorAgeMs.aggregate}/${s.iteratorAgeMs.lake} retries=${s.retries}` +
    (s.uploadsWaiting ? ` uploads_retrying=${s.uploadsWaiting}` : '') +
    (s.readErrors ? ` read_errors=${s.readErrors}` : '') +
    (s.incidents ? ` incidents=${s.incidents}` : '')
  );
}

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class ProgressDisplay {
  private drawnLines = 0;
  private readonly live: boolean;

  constructor(
    private readonly out: ProgressOutput,
    options: { plain?: boolean } = {},
  ) {
    this.live = out.isTTY === true && !options.plain;
  }

  update(snapshot: ProgressSnapshot): void {
    if (!this.live) {
      this.out.write(`${renderLine(snapshot)}\n`);
      return;
    }
    const lines = renderPanel(snapshot);
    // Move to the top of the previous panel and overwrite it line by line.
    let text = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : '';
    for (const line of lines) text += `\x1b[2K${line}\n`;
    this.out.write(text);
    this.drawnLines = lines.length;
  }

  /** Prints a message above the panel (the panel is redrawn below it on the next update). */
  message(line: string): void {
    if (this.live && this.drawnLines > 0) {
      this.out.write(`\x1b[${this.drawnLines}A\x1b[J`);
      this.drawnLines = 0;
    }
    this.out.write(`${line}\n`);
  }

  /** Leaves the last panel on screen; later output starts below it. */
  finish(): void {
    this.drawnLines = 0;
  }
}
