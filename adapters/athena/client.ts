/** The Athena client of the erasure function, with the same request timeouts and bounded attempts as the others. */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CLIENT_LIMITS, timedRequestHandler } from '../client-limits';

let athena: AthenaClient | undefined;

export function athenaClient(): AthenaClient {
  // Athena's control calls (start, status, a page of results) are small and quick, like SQS's.
  athena ??= new AthenaClient({ requestHandler: timedRequestHandler(CLIENT_LIMITS.sqs), maxAttempts: CLIENT_LIMITS.sqs.maxAttempts });
  return athena;
}
