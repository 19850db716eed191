/**
 * The scheduled profile export, as pure functions: which instant a scheduled run exports, which snapshot day
 * it belongs to, where its export goes, the idempotency token of the day, the whole ExportTableToPointInTime
 * request, and whether that instant is restorable yet. The function in lambdas/export-profiles only sends
 * what this module builds.
 *
 * A run is identified by its *scheduled* time, never by the time it happens to execute: the export is taken
 * as of the full hour at or before the scheduled time (the schedule runs EXPORT_RUN_DELAY_MINUTES after it,
 * because point-in-time recovery's latest restorable time is typically 5 minutes behind now), lands under
 * that hour's UTC day, and carries a token derived from the table and that day. A retried or late invocation
 * therefore sends the same request again, which DynamoDB answers with the export already started instead of
 * starting a second one.
 */
import { createHash } from 'node:crypto';
import { DependencyError, InputError } from '../errors';
import { profileExportPrefix } from './catalog';

/** The part of the ExportTableToPointInTime input the platform sets (SDK v3 field names). */
export interface ProfileExportRequest {
  readonly TableArn: string;
  readonly ExportTime: Date;
  readonly ClientToken: string;
  readonly S3Bucket: string;
  readonly S3BucketOwner?: string;
  readonly S3Prefix: string;
  readonly S3SseAlgorithm: 'AES256';
  readonly ExportFormat: 'DYNAMODB_JSON';
  readonly ExportType: 'FULL_EXPORT';
}

export interface ProfileExportTarget {
  /** ARN of the profile table (point-in-time recovery must be on). */
  readonly tableArn: string;
  /** The curated zone's bucket. */
  readonly bucket: string;
  /** Account expected to own the bucket: DynamoDB refuses to write into a bucket of that name owned by anyone else. */
  readonly bucketOwner?: string;
}

/** Minutes after the exported full hour at which the schedule runs: well past PITR's typical 5-minute lag. */
export const EXPORT_RUN_DELAY_MINUTES = 15;

/** The instant a run exports: the full UTC hour at or before its scheduled time. */
export function exportTimeOf(scheduledTime: Date): Date {
  if (Number.isNaN(scheduledTime.getTime())) throw new InputError('profile export: invalid time');
  return new Date(Math.floor(scheduledTime.getTime() / 3_600_000) * 3_600_000);
}

/** The table's restorable window (DescribeContinuousBackups' PointInTimeRecoveryDescription). */
export interface RestorableWindow {
  readonly status: string | undefined;
  readonly earliest: Date | undefined;
  readonly latest: Date | undefined;
}

/**
 * Why `exportTime` cannot be exported now, or undefined when it can. DynamoDB only exports a time inside the
 * point-in-time recovery window; asking for a later one fails, and a run must never quietly export another
 * time instead (its snapshot would no longer be the scheduled hour). 'not-yet' is worth retrying in minutes.
 */
/** The export time is not (or no longer) in the table's restorable window; 'not-yet' passes with time. */
export class ExportTimeNotRestorableError extends DependencyError {
  override name = 'ExportTimeNotRestorable';

  constructor(readonly reason: NonNullable<ReturnType<typeof unrestorableReason>>) {
    super(reason.message, 'ExportTimeNotRestorable', reason.kind === 'not-yet' ? 'transient' : 'permanent');
  }
}

export function unrestorableReason(exportTime: Date, window: RestorableWindow): { kind: 'disabled' | 'not-yet' | 'too-old'; message: string } | undefined {
  const t = exportTime.toISOString();
  if (window.status !== 'ENABLED' || !window.latest || !window.earliest) {
    return { kind: 'disabled', message: `profile export: point-in-time recovery is not enabled on the table (status ${window.status ?? 'unknown'}); ${t} cannot be exported` };
  }
  if (exportTime.getTime() > window.latest.getTime()) {
    return { kind: 'not-yet', message: `profile export: ${t} is not restorable yet (latest restorable time ${window.latest.toISOString()}); the invocation fails so that it is retried` };
  }
  if (exportTime.getTime() < window.earliest.getTime()) {
    return { kind: 'too-old', message: `profile export: ${t} is before the earliest restorable time ${window.earliest.toISOString()}` };
  }
  return undefined;
}

/** How far ahead of the invocation a scheduled time may be (clock skew between Scheduler and Lambda). */
export const SCHEDULED_TIME_SKEW_MS = 5 * 60_000;

/** `YYYY-MM-DD`, the UTC day of an instant: the snapshot partition the export belongs to. */
export function snapshotDay(time: Date): string {
  if (Number.isNaN(time.getTime())) throw new InputError('profile export: invalid time');
  return time.toISOString().slice(0, 10);
}

/**
 * The export's idempotency token: the same for every request about one table and one snapshot day, and
 * different for another table or another day. DynamoDB keeps a token for 8 hours after its export was
 * requested; the schedule and the function bound their retries well inside that (see ProfileExport).
 * The table ARN is hashed: it can be long, and the token only has to tell tables apart.
 */
export function exportClientToken(tableArn: string, day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new InputError(`profile export: snapshot day must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
  const table = createHash('sha256').update(tableArn).digest('hex').slice(0, 16);
  return `profile-export-${table}-${day.replace(/-/g, '')}`;
}

/**
 * Reads the scheduled time a run is for. The schedule passes `{"scheduledTime": "<ISO 8601>"}` (EventBridge
 * Scheduler's `<aws.scheduler.scheduled-time>`); a manual invocation passes the same shape. A missing,
 * malformed or future time is refused: exporting "now" would make the snapshot depend on when a retry ran.
 */
export function scheduledTimeOf(event: unknown, now: number): Date {
  const value = typeof event === 'object' && event !== null ? (event as Record<string, unknown>).scheduledTime : undefined;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw new InputError(`profile export: the event must carry scheduledTime as an ISO 8601 time with a zone, got ${JSON.stringify(value)}`);
  }
  const time = new Date(value);
  // Date rolls impossible dates over (Feb 30 -> Mar 2): the calendar fields, read back in the time's own
  // offset, must be the ones written.
  const zone = /(Z|([+-])(\d{2}):(\d{2}))$/.exec(value)!;
  const offsetMs = zone[1] === 'Z' ? 0 : (zone[2] === '-' ? -1 : 1) * (Number(zone[3]) * 60 + Number(zone[4])) * 60_000;
  if (Number.isNaN(time.getTime()) || new Date(time.getTime() + offsetMs).toISOString().slice(0, 16) !== value.slice(0, 16)) {
    throw new InputError(`profile export: scheduledTime is not a valid time: ${value}`);
  }
  if (time.getTime() > now + SCHEDULED_TIME_SKEW_MS) {
    throw new InputError(`profile export: scheduledTime ${value} is in the future; an export can only be taken of the past`);
  }
  return time;
}

/**
 * The S3Prefix to send for a snapshot day: `profileExportPrefix(day)` without its trailing slash. DynamoDB
 * writes an export under `<S3Prefix>/AWSDynamoDB/<export id>/` (it adds the separator itself), so the objects
 * land at `profile-exports/snapshot=YYYY-MM-DD/AWSDynamoDB/...`, under the profile_exports table's partition
 * location and exactly where the local lake writes its exports; a trailing slash would add an empty path segment.
 */
export function exportS3Prefix(day: string): string {
  return profileExportPrefix(day).replace(/\/+$/, '');
}

/** The complete request for the run scheduled at `scheduledTime`: the table as of exportTimeOf(scheduledTime). */
export function profileExportRequest(target: ProfileExportTarget, scheduledTime: Date): ProfileExportRequest {
  const exportTime = exportTimeOf(scheduledTime);
  const day = snapshotDay(exportTime);
  return {
    TableArn: target.tableArn,
    ExportTime: exportTime,
    ClientToken: exportClientToken(target.tableArn, day),
    S3Bucket: target.bucket,
    ...(target.bucketOwner ? { S3BucketOwner: target.bucketOwner } : {}),
    S3Prefix: exportS3Prefix(day),
    // The curated bucket's own default encryption; exports need no KMS permissions.
    S3SseAlgorithm: 'AES256',
    ExportFormat: 'DYNAMODB_JSON',
    ExportType: 'FULL_EXPORT',
  };
}
