/** The raw framing function's configuration and the environment variables that carry it (written by LakeDelivery). */
export const FRAME_RAW_ENV = {
  ledgerTableName: 'LEDGER_TABLE_NAME',
} as const;

export interface FrameRawConfig {
  /**
   * The ledger table, whose `#erased` partition holds the tombstones' hashes: records of erased subjects are
   * dropped from the raw zone. @default no gate (every record is framed)
   */
  readonly ledgerTableName?: string;
}

export function frameRawConfigFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): FrameRawConfig {
  const ledgerTableName = env[FRAME_RAW_ENV.ledgerTableName];
  return ledgerTableName ? { ledgerTableName } : {};
}
