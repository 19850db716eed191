/**
 * The export function's configuration and the environment variables that carry it. The ProfileExport
 * construct writes them; the deployed handler reads them.
 */
export const EXPORT_PROFILES_ENV = {
  tableArn: 'PROFILE_TABLE_ARN',
  bucket: 'EXPORT_BUCKET',
  bucketOwner: 'EXPORT_BUCKET_OWNER',
} as const;

export interface ExportProfilesConfig {
  /** ARN of the profile table. */
  readonly tableArn: string;
  /** The curated zone's bucket name. */
  readonly bucket: string;
  /** Account expected to own the bucket (optional). */
  readonly bucketOwner?: string;
}

/** Reads the configuration the construct writes into the environment; throws naming what is missing. */
export function exportProfilesConfigFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): ExportProfilesConfig {
  const tableArn = env[EXPORT_PROFILES_ENV.tableArn];
  const bucket = env[EXPORT_PROFILES_ENV.bucket];
  if (!tableArn) throw new Error(`export-profiles configuration: ${EXPORT_PROFILES_ENV.tableArn} is not set`);
  if (!bucket) throw new Error(`export-profiles configuration: ${EXPORT_PROFILES_ENV.bucket} is not set`);
  const bucketOwner = env[EXPORT_PROFILES_ENV.bucketOwner];
  return { tableArn, bucket, ...(bucketOwner ? { bucketOwner } : {}) };
}
