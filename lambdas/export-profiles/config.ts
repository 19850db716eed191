/**
 * The export function's configuration and the environment variables that carry it. The ProfileExport
 * construct writes them; the deployed handler reads them.
 */
import { EnvReader, type Env } from '../../core/env-config';

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

/** Reads the configuration the construct writes into the environment; throws one ConfigError naming every missing or bad value. */
export function exportProfilesConfigFromEnv(env: Env = process.env): ExportProfilesConfig {
  const read = new EnvReader(env, 'export-profiles configuration');
  const tableArn = read.text(EXPORT_PROFILES_ENV.tableArn);
  if (tableArn && !/^arn:aws[a-z-]*:dynamodb:[^:]+:\d{12}:table\/.+$/.test(tableArn)) read.report(`${EXPORT_PROFILES_ENV.tableArn} must be a DynamoDB table ARN, got ${JSON.stringify(tableArn)}`);
  const bucket = read.text(EXPORT_PROFILES_ENV.bucket);
  const bucketOwner = read.optionalText(EXPORT_PROFILES_ENV.bucketOwner);
  if (bucketOwner !== undefined && !/^\d{12}$/.test(bucketOwner)) read.report(`${EXPORT_PROFILES_ENV.bucketOwner} must be a 12-digit account id, got ${JSON.stringify(bucketOwner)}`);
  read.done();
  return { tableArn, bucket, ...(bucketOwner ? { bucketOwner } : {}) };
}
