import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { planLakeLifecycles, type LakeLifecycleDays, type LakeZone, type ZoneLifecycle } from './lifecycle';
import { PROFILE_EXPORT_PREFIX, PROFILE_EXPORT_RETENTION_DAYS } from '../../core/lake/catalog';

export interface LakeZonesProps {
  /** Raw zone: age at which objects move to Infrequent Access. @default Duration.days(30) */
  readonly rawInfrequentAccessAfter?: Duration;
  /** Raw zone: age at which objects move to Glacier Instant Retrieval (at least 30 days after Infrequent Access). @default Duration.days(90) */
  readonly rawGlacierAfter?: Duration;
  /** Raw zone: age at which objects are deleted. @default Duration.days(30) */
  readonly rawExpiration?: Duration;
  /** Curated zone: age at which objects move to Infrequent Access. @default Duration.days(90) */
  readonly curatedInfrequentAccessAfter?: Duration;
  /** Curated zone: age at which objects are deleted; zero keeps them forever. @default Duration.days(30) */
  readonly curatedExpiration?: Duration;
  /** Quarantine zone: age at which objects are deleted. @default Duration.days(14) */
  readonly quarantineExpiration?: Duration;
  /** Athena query results: age at which they are deleted. @default Duration.days(7) */
  readonly athenaResultsExpiration?: Duration;
  /** Server access logs: age at which they are deleted. @default Duration.days(30) */
  readonly accessLogsExpiration?: Duration;
  /** Noncurrent object versions are deleted this long after they stop being current. @default Duration.days(7) */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * What happens to the buckets when the stack is deleted: RETAIN keeps every bucket and its objects;
   * DESTROY empties and deletes them.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** LakeZonesProps as whole days, the defaults filled in. */
export function lakeLifecycleDays(props: LakeZonesProps): LakeLifecycleDays {
  const days = (d: Duration | undefined, fallback: number) => (d ?? Duration.days(fallback)).toDays();
  return {
    rawInfrequentAccessDays: days(props.rawInfrequentAccessAfter, 30),
    rawGlacierDays: days(props.rawGlacierAfter, 90),
    rawExpirationDays: days(props.rawExpiration, 30),
    curatedInfrequentAccessDays: days(props.curatedInfrequentAccessAfter, 90),
    curatedExpirationDays: days(props.curatedExpiration, 30),
    quarantineExpirationDays: days(props.quarantineExpiration, 14),
    athenaResultsExpirationDays: days(props.athenaResultsExpiration, 7),
    accessLogsExpirationDays: days(props.accessLogsExpiration, 30),
    noncurrentVersionExpirationDays: days(props.noncurrentVersionExpiration, 7),
  };
}

/** Days after which incomplete multipart uploads are aborted: Firehose finishes its uploads within minutes. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 1;

/**
 * The lake's buckets, one per zone: raw (everything as received), curated (validated, Parquet), quarantine
 * (invalid events with their reasons), Athena query results, and the server-access-log bucket the others log to.
 *
 * Every bucket: S3-managed encryption (SSE-S3: free, no per-request KMS charge on the millions of small
 * GETs Athena makes; access-log delivery does not support SSE-KMS targets at all), TLS 1.2+ required, all
 * public access blocked, ACLs disabled, lifecycle rules from the stage configuration. The three data zones
 * are versioned so an overwrite or a delete is recoverable until noncurrent versions expire.
 */
export class LakeZones extends Construct {
  /** Raw zone: gzip JSON lines exactly as received, by arrival time; for replay and audit. */
  readonly rawBucket: s3.IBucket;
  /** Curated zone: validated events as Parquet, by event time. */
  readonly curatedBucket: s3.IBucket;
  /** Quarantine zone: invalid records as JSON lines with reason codes, by arrival time. */
  readonly quarantineBucket: s3.IBucket;
  /** Athena query results (the workgroup's output location). */
  readonly athenaResultsBucket: s3.IBucket;
  /** Server access logs of the four buckets above, each under its own prefix. */
  readonly accessLogsBucket: s3.IBucket;
  /** The lifecycle applied to each zone, after dropping transitions S3 would reject. */
  readonly lifecycles: Readonly<Record<LakeZone, ZoneLifecycle>>;

  constructor(scope: Construct, id: string, props: LakeZonesProps = {}) {
    super(scope, id);
    const lake = lakeLifecycleDays(props);
    // Log delivery through a bucket policy (not the legacy ACL), so ACLs stay disabled on every bucket. Set
    // here as well as in cdk.json so that apps built without cdk.json (tests) synthesize the same template.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    this.lifecycles = planLakeLifecycles(lake);
    const retain = props.removalPolicy === RemovalPolicy.RETAIN;
    const common: s3.BucketProps = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !retain,
    };

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...common,
      lifecycleRules: rules(this.lifecycles.accessLogs, lake, false),
    });
    this.accessLogsBucket = accessLogs;

    const zone = (name: string, lifecycle: ZoneLifecycle, versioned: boolean): s3.Bucket =>
      new s3.Bucket(this, name, {
        ...common,
        versioned,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: `${name.toLowerCase()}/`,
        lifecycleRules: rules(lifecycle, lake, versioned),
      });
    this.rawBucket = zone('Raw', this.lifecycles.raw, true);
    const curated = zone('Curated', this.lifecycles.curated, true);
    this.curatedBucket = curated;
    // Profile snapshots serve reconciliation only: kept as long as the profile_exports table looks back,
    // whatever the curated events' own retention.
    curated.addLifecycleRule({
      id: 'profile-exports',
      prefix: PROFILE_EXPORT_PREFIX,
      expiration: Duration.days(PROFILE_EXPORT_RETENTION_DAYS),
      abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_UPLOAD_DAYS),
    });
    this.quarantineBucket = zone('Quarantine', this.lifecycles.quarantine, true);
    // Results are reproducible by re-running the query: versioning would only add cost.
    this.athenaResultsBucket = zone('AthenaResults', this.lifecycles.athenaResults, false);
  }
}

/** The lifecycle rules of one bucket: current objects, aborted uploads and, when versioned, old versions. */
function rules(lifecycle: ZoneLifecycle, lake: LakeLifecycleDays, versioned: boolean): s3.LifecycleRule[] {
  const out: s3.LifecycleRule[] = [
    {
      id: 'current-objects',
      transitions: lifecycle.transitions.map((t) => ({
        storageClass: t.storageClass === 'STANDARD_IA' ? s3.StorageClass.INFREQUENT_ACCESS : s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
        transitionAfter: Duration.days(t.afterDays),
      })),
      ...(lifecycle.expirationDays !== undefined ? { expiration: Duration.days(lifecycle.expirationDays) } : {}),
      abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_UPLOAD_DAYS),
      ...(versioned ? { noncurrentVersionExpiration: Duration.days(lake.noncurrentVersionExpirationDays) } : {}),
    },
  ];
  // Expiring a current version leaves a delete marker; once its old versions are gone the marker is clutter
  // that every LIST pays for. S3 does not allow this action in a rule that also expires by days.
  if (versioned) out.push({ id: 'expired-delete-markers', expiredObjectDeleteMarker: true });
  return out;
}
