/** The curate function's configuration and the environment variables that carry it (written by LakeDelivery). */
export const CURATE_ENV = {
  ledgerTableName: 'LEDGER_TABLE_NAME',
} as const;

export interface CurateConfig {
  /** The ledger table, whose `#erased` partition holds the tombstones' hashes. */
  readonly ledgerTableName: string;
}

export function curateConfigFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): CurateConfig {
  const ledgerTableName = env[CURATE_ENV.ledgerTableName];
  if (!ledgerTableName) throw new Error(`curate configuration: ${CURATE_ENV.ledgerTableName} is not set`);
  return { ledgerTableName };
}
