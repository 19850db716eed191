/** Sending an erasure request (or a follow-up pass) to the erasure queue. */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../aws-clients';

export async function sendErasureRequest(queueUrl: string, body: string, delaySeconds = 0): Promise<string | undefined> {
  const out = await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, ...(delaySeconds > 0 ? { DelaySeconds: delaySeconds } : {}) }));
  return out.MessageId;
}
