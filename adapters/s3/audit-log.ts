/** The erasure audit log in AWS: one JSON object per erasure in the audit bucket, under erasures/<day>/. */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AuditEntry, AuditPort } from '../../core/privacy/erasure';

export class S3AuditLog implements AuditPort {
  constructor(
    private readonly s3: Pick<S3Client, 'send'>,
    private readonly bucket: string,
  ) {}

  async record(entry: AuditEntry): Promise<string> {
    const key = `erasures/${entry.completed_at.slice(0, 10)}/${entry.erasure_id}.json`;
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(entry) + '\n', ContentType: 'application/json' }));
    return `s3://${this.bucket}/${key}`;
  }
}
