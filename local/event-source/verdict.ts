/**
 * What an invocation's outcome means for its batch (pure), as Lambda reads a Kinesis function's response:
 * a throw or a timeout fails the batch; with a tumbling window the response must carry a `state` object;
 * with ReportBatchItemFailures an empty or absent list is a success, a list naming records of the batch is a
 * partial failure from the lowest of them, and anything else fails the whole batch.
 */
import { describeError } from '../../core/errors';
import type { InvokeOutcome, Verdict } from './types';

export interface VerdictRules {
  /** The invocation belongs to a tumbling window. */
  readonly windowed: boolean;
  readonly reportBatchItemFailures: boolean;
}

/** The verdict on an invocation of the records with `sequenceNumbers` (in order). */
export function judge(outcome: InvokeOutcome, sequenceNumbers: readonly string[], rules: VerdictRules): Verdict {
  if (outcome.kind === 'error') return { kind: 'failure', functionError: true, reason: describeError(outcome.error) };
  const response = outcome.response as Record<string, unknown> | null;
  let state: string | undefined;
  if (rules.windowed) {
    const raw = response && typeof response === 'object' ? response.state : undefined;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      return { kind: 'failure', functionError: false, reason: 'a tumbling-window response must contain a state object' };
    }
    state = JSON.stringify(raw);
  }
  if (!rules.reportBatchItemFailures || !response || typeof response !== 'object') return { kind: 'success', state };
  const failures = response.batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success', state };
  if (!Array.isArray(failures)) return { kind: 'failure', functionError: false, reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'success', state };
  const index = new Map(sequenceNumbers.map((s, i) => [s, i]));
  let lowest = Infinity;
  for (const item of failures) {
    const id = item && typeof item === 'object' ? (item as Record<string, unknown>).itemIdentifier : undefined;
    const at = typeof id === 'string' && id !== '' ? index.get(id) : undefined;
    if (at === undefined) {
      return { kind: 'failure', functionError: false, reason: `invalid itemIdentifier ${JSON.stringify(id ?? null)}` };
    }
    lowest = Math.min(lowest, at);
  }
  return { kind: 'partial', failedIndex: lowest, state };
}
