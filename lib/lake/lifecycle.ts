/** The lifecycle settings of the zones, in days (the stage configuration's `lake` section has these keys). */
export interface LakeLifecycleDays {
  readonly rawInfrequentAccessDays: number;
  readonly rawGlacierDays: number;
  readonly rawExpirationDays: number;
  readonly curatedInfrequentAccessDays: number;
  /** 0 keeps curated data forever. */
  readonly curatedExpirationDays: number;
  readonly quarantineExpirationDays: number;
  readonly athenaResultsExpirationDays: number;
  readonly accessLogsExpirationDays: number;
  readonly noncurrentVersionExpirationDays: number;
}

/** A storage-class transition of a lifecycle rule. */
export interface PlannedTransition {
  readonly storageClass: 'STANDARD_IA' | 'GLACIER_IR';
  readonly afterDays: number;
}

/** The lifecycle of one zone's current objects, as S3 will accept it. */
export interface ZoneLifecycle {
  /** Transitions in ascending day order. */
  readonly transitions: readonly PlannedTransition[];
  /** Days after creation when current objects expire; undefined keeps them forever. */
  readonly expirationDays?: number;
  /** Configured transitions that were left out, with the reason (documented in synth output and tests). */
  readonly omitted: readonly string[];
}

export type LakeZone = 'raw' | 'curated' | 'quarantine' | 'athenaResults' | 'accessLogs';

/** S3 refuses a Standard-IA transition earlier than 30 days after creation. */
const MIN_INFREQUENT_ACCESS_DAYS = 30;
/** S3 refuses a transition out of Standard-IA less than 30 days after the transition into it. */
const MIN_DAYS_IN_INFREQUENT_ACCESS = 30;

/**
 * Keeps the transitions S3 accepts: a transition on or after the expiration day is rejected by S3
 * ("Days in the Expiration action must be greater than Days in the Transition action") and pointless anyway,
 * so it is left out rather than failing the deployment. Dev stages rely on this: they expire raw data at 30
 * days, before it would ever reach Infrequent Access or Glacier.
 */
export function planZoneLifecycle(transitions: readonly PlannedTransition[], expirationDays: number | undefined): ZoneLifecycle {
  const kept: PlannedTransition[] = [];
  const omitted: string[] = [];
  const sorted = [...transitions].sort((a, b) => a.afterDays - b.afterDays);
  for (const t of sorted) {
    if (expirationDays !== undefined && t.afterDays >= expirationDays) {
      omitted.push(`${t.storageClass} after ${t.afterDays} days: objects expire after ${expirationDays} days`);
      continue;
    }
    if (t.storageClass === 'STANDARD_IA' && t.afterDays < MIN_INFREQUENT_ACCESS_DAYS) {
      omitted.push(`${t.storageClass} after ${t.afterDays} days: S3 requires at least ${MIN_INFREQUENT_ACCESS_DAYS}`);
      continue;
    }
    const ia = kept.find((k) => k.storageClass === 'STANDARD_IA');
    if (ia && t.afterDays - ia.afterDays < MIN_DAYS_IN_INFREQUENT_ACCESS) {
      omitted.push(`${t.storageClass} after ${t.afterDays} days: less than ${MIN_DAYS_IN_INFREQUENT_ACCESS} days after STANDARD_IA at ${ia.afterDays}`);
      continue;
    }
    kept.push(t);
  }
  return { transitions: kept, ...(expirationDays !== undefined ? { expirationDays } : {}), omitted };
}

/** The lifecycle of every zone. */
export function planLakeLifecycles(lake: LakeLifecycleDays): Record<LakeZone, ZoneLifecycle> {
  return {
    raw: planZoneLifecycle(
      [
        { storageClass: 'STANDARD_IA', afterDays: lake.rawInfrequentAccessDays },
        { storageClass: 'GLACIER_IR', afterDays: lake.rawGlacierDays },
      ],
      lake.rawExpirationDays,
    ),
    curated: planZoneLifecycle(
      [{ storageClass: 'STANDARD_IA', afterDays: lake.curatedInfrequentAccessDays }],
      lake.curatedExpirationDays === 0 ? undefined : lake.curatedExpirationDays,
    ),
    quarantine: planZoneLifecycle([], lake.quarantineExpirationDays),
    athenaResults: planZoneLifecycle([], lake.athenaResultsExpirationDays),
    accessLogs: planZoneLifecycle([], lake.accessLogsExpirationDays),
  };
}
